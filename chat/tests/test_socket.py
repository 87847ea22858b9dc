"""The room socket as viewers use it: join, chat, history, resume, likes, presence."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from chat.models import ChatMessage
from moderation import services as moderation
from rooms import services as rooms

pytestmark = pytest.mark.django_db(transaction=True)


async def go_live(room):
    return await database_sync_to_async(rooms.start_stream)(room)


async def test_a_viewer_is_greeted_with_history_and_counts(open_socket, alice_room, bob):
    viewer = await open_socket(alice_room, bob)
    hello = await viewer.expect("hello")
    assert hello["room"] == alice_room.slug
    assert hello["user"]["name"] == "bob" and hello["can_chat"] is True
    assert (hello["status"], hello["stream"]) == ("offline", None)
    assert (await viewer.expect("chat.history"))["messages"] == []
    count = await viewer.expect("presence.count", timeout=3)
    assert count == {"type": "presence.count", "viewers": 1, "logged_in": 1}


async def test_a_message_reaches_everyone_and_acknowledges_the_sender(
    open_socket, alice_room, bob, carol
):
    await go_live(alice_room)
    sender = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    await sender.send({"type": "chat.send", "text": "hello 👋 world", "nonce": "n-1"})
    ack = await sender.expect("chat.message", nonce="n-1")
    seen = await watcher.expect("chat.message")
    assert seen["id"] == ack["id"] and seen["text"] == "hello 👋 world"
    assert ack["user"] == {"id": bob.pk, "name": "bob", "role": "viewer", "badges": []}
    stored = await database_sync_to_async(ChatMessage.objects.get)(pk=int(ack["id"]))
    assert stored.text == "hello 👋 world" and stored.user_id == bob.pk
    assert stored.stream_id is not None


async def test_moderators_and_owners_wear_badges(open_socket, alice_room, alice, carol):
    owner = await open_socket(alice_room, alice)
    await owner.send({"type": "chat.send", "text": "welcome", "nonce": "a"})
    assert (await owner.expect("chat.message"))["user"]["badges"] == ["owner"]
    moderator = await open_socket(alice_room, carol)
    await moderator.send({"type": "chat.send", "text": "be nice", "nonce": "c"})
    assert (await moderator.expect("chat.message", nonce="c"))["user"]["badges"] == ["moderator"]


async def test_anonymous_viewers_read_but_cannot_chat_or_like(open_socket, alice_room):
    viewer = await open_socket(alice_room)
    await viewer.send({"type": "chat.send", "text": "hi", "nonce": "x"})
    error = await viewer.expect("error")
    assert error["code"] == "not_signed_in"
    await viewer.send({"type": "like", "count": 3})
    assert (await viewer.expect("error"))["code"] == "not_signed_in"
    assert not await database_sync_to_async(ChatMessage.objects.exists)()


async def test_a_new_viewer_gets_the_last_messages(open_socket, alice_room, bob):
    sender = await open_socket(alice_room, bob)
    for n in range(3):
        await sender.send({"type": "chat.send", "text": f"m{n}", "nonce": str(n)})
        await sender.expect("chat.message", nonce=str(n))
    late = await open_socket(alice_room)
    history = await late.expect("chat.history")
    assert [m["text"] for m in history["messages"]] == ["m0", "m1", "m2"]


async def test_resume_after_a_drop_loses_nothing(open_socket, alice_room, bob, carol):
    flaky = await open_socket(alice_room, carol)
    await flaky.send({"type": "chat.send", "text": "before", "nonce": "b"})
    last_seen = (await flaky.expect("chat.message", nonce="b"))["id"]
    await flaky.close()

    sender = await open_socket(alice_room, bob)
    for n in range(4):
        await sender.send({"type": "chat.send", "text": f"missed {n}", "nonce": f"m{n}"})
        await sender.expect("chat.message", nonce=f"m{n}")

    back = await open_socket(alice_room, carol)
    await back.send({"type": "resume", "last_id": last_seen})
    while True:  # the join history comes first; the resume answer after it
        history = await back.expect("chat.history")
        if history["messages"] and history["messages"][0]["text"] != "before":
            break
    assert [m["text"] for m in history["messages"]] == [f"missed {n}" for n in range(4)]
    assert history["complete"] is True


async def test_resume_reaches_past_the_memory_into_the_database(
    open_socket, alice_room, bob, settings
):
    settings.CHAT_HISTORY_ON_JOIN = 2
    settings.CHAT_RATE_BURST = 100
    sender = await open_socket(alice_room, bob)
    ids = []
    for n in range(6):
        await sender.send({"type": "chat.send", "text": f"m{n}", "nonce": f"{n}"})
        ids.append((await sender.expect("chat.message", nonce=f"{n}"))["id"])
    await sender.send({"type": "resume", "last_id": ids[0]})
    history = await sender.expect("chat.history")
    while len(history["messages"]) <= 2:
        history = await sender.expect("chat.history")
    assert [m["text"] for m in history["messages"]] == ["m1", "m2", "m3", "m4", "m5"]


async def test_the_message_rate_allows_a_burst_then_holds_to_the_rate(
    open_socket, alice_room, bob, settings
):
    settings.CHAT_RATE_PER_MINUTE = 0.6  # so the bucket cannot refill while the test runs
    sender = await open_socket(alice_room, bob)
    for n in range(5):
        await sender.send({"type": "chat.send", "text": f"m{n}", "nonce": str(n)})
        await sender.expect("chat.message", nonce=str(n))
    await sender.send({"type": "chat.send", "text": "one too many", "nonce": "x"})
    error = await sender.expect("error")
    assert error["code"] == "rate_limited"
    assert error["retry_after"] > 0


async def test_slow_mode_holds_viewers_but_not_moderators(
    open_socket, alice_room, alice, bob, carol
):

    await database_sync_to_async(moderation.set_slow_mode)(alice, alice_room, 30)
    viewer = await open_socket(alice_room, bob)
    await viewer.expect("hello")
    await viewer.send({"type": "chat.send", "text": "first", "nonce": "1"})
    await viewer.expect("chat.message", nonce="1")
    await viewer.send({"type": "chat.send", "text": "second", "nonce": "2"})
    assert (await viewer.expect("error"))["code"] == "slow_mode"
    moderator = await open_socket(alice_room, carol)
    for n in range(2):
        await moderator.send({"type": "chat.send", "text": f"mod {n}", "nonce": f"c{n}"})
        await moderator.expect("chat.message", nonce=f"c{n}")


async def test_slow_mode_reaches_open_sockets(open_socket, alice_room, alice, bob):

    viewer = await open_socket(alice_room, bob)
    await viewer.expect("hello")
    await database_sync_to_async(moderation.set_slow_mode)(alice, alice_room, 60)
    assert (await viewer.expect("chat.slow_mode"))["seconds"] == 60
    await viewer.send({"type": "chat.send", "text": "a", "nonce": "1"})
    await viewer.expect("chat.message", nonce="1")
    await viewer.send({"type": "chat.send", "text": "b", "nonce": "2"})
    assert (await viewer.expect("error"))["code"] == "slow_mode"


async def test_likes_are_summed_broadcast_and_stored(open_socket, alice_room, bob, carol):
    stream = await go_live(alice_room)
    first = await open_socket(alice_room, bob)
    second = await open_socket(alice_room, carol)
    await first.send({"type": "like", "count": 3})
    await second.send({"type": "like", "count": 2})
    total = 0
    while total < 5:
        total = (await first.expect("likes"))["total"]
    assert total == 5
    await stream.arefresh_from_db()
    assert stream.likes == 5


async def test_likes_need_a_live_room(open_socket, alice_room, bob):
    viewer = await open_socket(alice_room, bob)
    await viewer.send({"type": "like", "count": 1})
    assert (await viewer.expect("error"))["code"] == "not_allowed"


async def test_the_room_sees_it_go_live(open_socket, alice_room):
    viewer = await open_socket(alice_room)
    await viewer.expect("hello")
    await go_live(alice_room)
    status = await viewer.expect("room.status")
    assert status["status"] == "live" and status["stream"] is not None


async def test_join_and_leave_notices_in_a_small_room(open_socket, alice_room, bob, carol):
    watcher = await open_socket(alice_room, bob)
    await watcher.expect("hello")
    newcomer = await open_socket(alice_room, carol)
    joined = [(await watcher.expect("presence.join"))["user"]["name"] for _ in range(2)]
    assert joined == ["bob", "carol"]
    await newcomer.close()
    assert (await watcher.expect("presence.leave"))["user"]["name"] == "carol"


async def test_counts_follow_joins_and_leaves(open_socket, alice_room, bob):
    watcher = await open_socket(alice_room, bob)
    anonymous = [await open_socket(alice_room) for _ in range(2)]
    await watcher.expect("presence.count", viewers=3, logged_in=1)
    await anonymous[0].close()
    await watcher.expect("presence.count", viewers=2, logged_in=1)


async def test_an_unknown_room_closes_with_its_code(open_socket, db):
    from types import SimpleNamespace

    client = await open_socket(SimpleNamespace(slug="nope"))
    assert (await client.expect("error"))["code"] == "unknown_room"
    assert (await client.communicator.receive_output(2))["code"] == 4404


async def test_a_chat_message_like_counts_once_per_user(open_socket, alice_room, bob, carol):
    await go_live(alice_room)
    author = await open_socket(alice_room, bob)
    await author.send({"type": "chat.send", "text": "GG", "nonce": "g"})
    message_id = (await author.expect("chat.message", nonce="g"))["id"]
    fan = await open_socket(alice_room, carol)
    await fan.send({"type": "chat.like", "id": message_id})
    await fan.send({"type": "chat.like", "id": message_id})
    assert (await author.expect("chat.liked"))["likes"] == 1
    stored = await database_sync_to_async(ChatMessage.objects.get)(pk=int(message_id))
    assert stored.like_count == 1


async def test_a_resent_nonce_is_acknowledged_once_and_never_doubled(open_socket, alice_room, bob):
    sender = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    frame = {"type": "chat.send", "text": "only once", "nonce": "resend-1"}
    await sender.send(frame)
    first = await sender.expect("chat.message", nonce="resend-1")
    await sender.send(frame)  # the phone lost the acknowledgement and sends it again
    again = await sender.expect("chat.message", nonce="resend-1")
    assert again["id"] == first["id"]
    await watcher.expect("chat.message", nonce="resend-1")
    stored = await database_sync_to_async(ChatMessage.objects.filter(text="only once").count)()
    assert stored == 1
    await sender.send({"type": "chat.send", "text": "marker", "nonce": "marker"})
    await watcher.expect("chat.message", nonce="marker")
    seen_by_the_room = [e for e in watcher.seen if e.get("nonce") == "resend-1"]
    assert seen_by_the_room == []  # the room saw it once, before the marker


async def test_a_refused_send_frees_its_nonce_for_a_retry(open_socket, alice_room, bob, settings):
    settings.CHAT_RATE_PER_MINUTE = 0.6
    settings.CHAT_RATE_BURST = 1
    sender = await open_socket(alice_room, bob)
    await sender.send({"type": "chat.send", "text": "first", "nonce": "a"})
    await sender.expect("chat.message", nonce="a")
    await sender.send({"type": "chat.send", "text": "too soon", "nonce": "b"})
    assert (await sender.expect("error"))["code"] == "rate_limited"
    settings.CHAT_RATE_PER_MINUTE = 60_000  # the bucket refills within milliseconds
    await asyncio.sleep(0.05)  # time passing is the point: the refill
    await sender.send({"type": "chat.send", "text": "too soon", "nonce": "b"})
    assert (await sender.expect("chat.message", nonce="b"))["text"] == "too soon"


async def test_the_greeting_carries_the_live_status_read_at_connect(open_socket, alice_room):
    """A page rendered from a cached room a moment old corrects itself from this."""
    stream = await go_live(alice_room)
    hello = await (await open_socket(alice_room)).expect("hello")
    assert (hello["status"], hello["stream"]) == ("live", stream.pk)


async def test_a_staff_moderator_wears_the_same_badge_live_and_in_history(
    open_socket, alice_room, alice, dave
):
    from chat import services

    await database_sync_to_async(rooms.appoint_moderator)(alice_room, alice, dave)
    sender = await open_socket(alice_room, dave)
    await sender.send({"type": "chat.send", "text": "hi all", "nonce": "s"})
    live = (await sender.expect("chat.message", nonce="s"))["user"]
    found, _ = await database_sync_to_async(services.message_events_after)(alice_room.pk, 0, 10)
    assert [event["user"] for event in found] == [live]
    assert live["role"] == "staff"
