"""REST: a stream's chat history and its top comments, as a replay page reads them."""

from django.urls import reverse
from django.utils import timezone

from chat import services, top
from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services as moderation
from rooms import services as rooms


def say(room, stream, user, text):
    return ChatMessage.objects.create(
        id=next_message_id(),
        room=room,
        stream=stream,
        user=user,
        text=text,
        created_at=timezone.now(),
    )


def test_history_pages_through_a_stream_in_order(client, alice_room, bob):
    stream = rooms.start_stream(alice_room)
    for n in range(5):
        say(alice_room, stream, bob, f"m{n}")
    url = reverse("api-stream-messages", args=[stream.pk])
    first = client.get(url, {"limit": 2}).json()
    assert [m["text"] for m in first["results"]] == ["m0", "m1"]
    assert isinstance(first["results"][0]["id"], str)
    second = client.get(first["next"]).json()
    assert [m["text"] for m in second["results"]] == ["m2", "m3"]


def test_history_leaves_out_deleted_messages(client, alice_room, alice, bob):
    stream = rooms.start_stream(alice_room)
    keep = say(alice_room, stream, bob, "keep")
    gone = say(alice_room, stream, bob, "gone")
    moderation.delete_message(alice, alice_room, gone.pk)
    results = client.get(reverse("api-stream-messages", args=[stream.pk])).json()["results"]
    assert [m["id"] for m in results] == [str(keep.pk)]


def test_history_of_an_unknown_stream_is_404(client, db):
    assert client.get(reverse("api-stream-messages", args=[999])).status_code == 404


def test_top_comments_rank_by_likes_one_per_user(client, alice_room, alice, bob, carol, dave):
    stream = rooms.start_stream(alice_room)
    popular = say(alice_room, stream, bob, "popular")
    liked_once = say(alice_room, stream, bob, "liked once")
    say(alice_room, stream, bob, "ignored")
    for fan in (alice, carol, dave):
        services.like_message(fan, alice_room.pk, popular.pk)
    services.like_message(carol, alice_room.pk, liked_once.pk)
    services.like_message(carol, alice_room.pk, liked_once.pk)  # a second like does not count
    body = client.get(reverse("api-stream-top", args=[stream.pk])).json()
    assert [(m["text"], m["like_count"]) for m in body["results"]] == [
        ("popular", 3),
        ("liked once", 1),
    ]
    page_two = client.get(reverse("api-stream-top", args=[stream.pk]), {"offset": 1, "limit": 1})
    assert [m["text"] for m in page_two.json()["results"]] == ["liked once"]


def test_the_redis_ranking_rebuilds_to_the_same_order(
    alice_room, alice, bob, carol, dave, redis_url, django_capture_on_commit_callbacks
):
    stream = rooms.start_stream(alice_room)
    first = say(alice_room, stream, bob, "first")
    second = say(alice_room, stream, bob, "second")
    with django_capture_on_commit_callbacks(execute=True):
        services.like_message(alice, alice_room.pk, second.pk)  # creates the set from the database
    with django_capture_on_commit_callbacks(execute=True):
        services.like_message(carol, alice_room.pk, second.pk)  # ZINCRBY on the live set
        services.like_message(carol, alice_room.pk, first.pk)
        services.like_message(dave, alice_room.pk, first.pk)
        services.like_message(bob, alice_room.pk, first.pk)
    live_order = top.top_message_ids(stream.pk, 0, 10)
    assert live_order == [first.pk, second.pk]
    top.rebuild(stream.pk)
    assert top.top_message_ids(stream.pk, 0, 10) == live_order


def test_a_deleted_message_leaves_the_ranking(client, alice_room, alice, bob, carol):
    stream = rooms.start_stream(alice_room)
    message = say(alice_room, stream, bob, "rude")
    services.like_message(carol, alice_room.pk, message.pk)
    moderation.delete_message(alice, alice_room, message.pk)
    assert client.get(reverse("api-stream-top", args=[stream.pk])).json()["results"] == []


def test_a_viewer_cannot_delete_messages(alice_room, bob, carol):
    import pytest

    from moderation.errors import NotAllowed

    stream = rooms.start_stream(alice_room)
    message = say(alice_room, stream, carol, "mine")
    with pytest.raises(NotAllowed):
        moderation.delete_message(bob, alice_room, message.pk)
