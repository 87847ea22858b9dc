"""The stream manager: edit, start and stop, health, history; only for the owner and staff."""

import pytest
from django.test import Client

from rooms import cache, events, services
from rooms.errors import NotAllowed
from rooms.models import Room, StreamIncident

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def manage_url(room) -> str:
    return f"/rooms/{room.slug}/manage/"


def test_only_the_owner_and_staff_open_the_stream_manager(
    client, alice_room, alice, bob, carol, dave
):
    assert client.get(manage_url(alice_room)).status_code == 302  # to the log-in page
    for person, expected in ((bob, 403), (carol, 403), (dave, 200), (alice, 200)):
        client.force_login(person)
        assert client.get(manage_url(alice_room)).status_code == expected, person


def test_the_owner_edits_title_description_category_and_tags(client, alice, alice_room):
    client.force_login(alice)
    slug = alice_room.slug
    response = client.post(
        manage_url(alice_room),
        {"title": HOSTILE, "description": "Late night lo-fi", "category": "Music",
         "tags": "LoFi, chill  #study chill a-b_c"},
    )  # fmt: skip
    assert response.status_code == 302
    alice_room.refresh_from_db()
    assert alice_room.title == HOSTILE and alice_room.slug == slug  # the address never moves
    assert alice_room.tags == "lofi chill study a-b_c"
    page = client.get(alice_room.get_absolute_url()).content.decode()
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "#lofi" in page and "Late night lo-fi" in page


def test_an_empty_title_is_refused_and_nothing_changes(client, alice, alice_room):
    client.force_login(alice)
    response = client.post(manage_url(alice_room), {"title": "  ", "tags": "x"})
    assert response.status_code == 400
    alice_room.refresh_from_db()
    assert alice_room.title == "Alice's Room"


def test_nobody_else_may_edit_stop_or_start(client, bob, carol, alice_room):
    for person in (bob, carol):
        client.force_login(person)
        assert client.post(manage_url(alice_room), {"title": "mine"}).status_code == 403
        assert client.post(f"/rooms/{alice_room.slug}/stop/").status_code == 403
        assert client.post(f"/rooms/{alice_room.slug}/start/").status_code == 403
    alice_room.refresh_from_db()
    assert alice_room.title == "Alice's Room" and alice_room.accepting_streams
    with pytest.raises(NotAllowed):
        services.stop_room(alice_room, bob)


def test_stop_and_start_need_a_csrf_token(alice, alice_room):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post(f"/rooms/{alice_room.slug}/stop/").status_code == 403
    assert Room.objects.get(pk=alice_room.pk).accepting_streams


def test_stop_ends_a_live_stream_at_once_and_start_accepts_again(
    client, alice, alice_room, django_capture_on_commit_callbacks
):
    stream = services.start_stream(alice_room)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/rooms/{alice_room.slug}/stop/").status_code == 302
    room = Room.objects.get(pk=alice_room.pk)
    assert room.status == Room.Status.ENDED and not room.accepting_streams
    stream.refresh_from_db()
    assert stream.ended_at is not None
    # Pages read the room from the cache: the stop is visible at once.
    assert cache.room(alice_room.slug).status == Room.Status.ENDED
    assert "Stopped" in client.get(manage_url(alice_room)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/rooms/{alice_room.slug}/start/")
    assert Room.objects.get(pk=alice_room.pk).accepting_streams
    assert cache.room(alice_room.slug).accepting_streams


def test_ending_a_stream_by_id_never_ends_a_newer_one(alice_room):
    first = services.start_stream(alice_room)
    services.end_stream(alice_room)
    second = services.start_stream(alice_room)
    assert services.end_stream(alice_room, first.pk) is None
    assert Room.objects.get(pk=alice_room.pk).current_stream_id == second.pk


def test_the_manager_shows_the_last_health_report_and_its_warnings(client, alice, alice_room):
    services.start_stream(alice_room)
    health = events.stream_health(
        alice_room,
        {"input_bitrate": 2_500_000, "fps": 29.97, "width": 1280, "height": 720,
         "video_codec": "h264", "audio_codec": "aac", "keyframe_interval": 4.0, "speed": 1.0},
    )  # fmt: skip
    assert health["warnings"] == ["keyframe_interval"]
    from asgiref.sync import async_to_sync

    async_to_sync(cache.store_health)(alice_room.pk, health)
    client.force_login(alice)
    page = client.get(manage_url(alice_room)).content.decode()
    assert "1280\u00d7720" in page and "h264 / aac" in page
    assert 'data-warning="keyframe_interval"' in page


def test_health_warnings(alice_room):
    good = {"keyframe_interval": 2.0, "speed": 1.0}
    assert events.stream_health(alice_room, good)["warnings"] == []
    assert events.stream_health(alice_room, {"speed": 0.5})["warnings"] == ["slow_transcoder"]
    assert events.stream_health(alice_room, {})["warnings"] == []


def test_past_streams_list_replays_and_incidents(client, alice, alice_room):
    stream = services.start_stream(alice_room)
    services.record_incident(
        stream.pk, StreamIncident.Kind.TRANSCODER_DIED, "exit status -9, no ended event\n<b>x"
    )
    services.end_stream(alice_room)
    services.record_replay(stream.pk, 30)
    client.force_login(alice)
    page = client.get(manage_url(alice_room)).content.decode()
    assert f"/rooms/{alice_room.slug}/replays/{stream.pk}/" in page
    assert "Transcoder died" in page and "exit status -9" in page and "<b>x" not in page


def test_the_stream_key_section_is_only_for_the_owner(client, alice_room, dave):
    alice_room.stream_key_hash = "0" * 64
    alice_room.save()
    client.force_login(dave)  # staff manage the room but never see or rotate its key
    page = client.get(manage_url(alice_room)).content.decode()
    assert "New stream key" not in page


def test_the_api_edits_stops_and_starts_for_the_owner_only(client, alice, bob, alice_room):
    url = f"/api/rooms/{alice_room.slug}/"
    assert client.patch(url, {"title": "x"}, content_type="application/json").status_code in (
        401,
        403,
    )
    client.force_login(bob)
    assert client.patch(url, {"title": "x"}, content_type="application/json").status_code == 403
    assert client.post(f"{url}stop/").status_code == 403
    client.force_login(alice)
    response = client.patch(url, {"tags": "Jazz, night"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["tags"] == "jazz night"
    assert response.json()["title"] == "Alice's Room"  # unchanged fields stay
    bad = client.patch(url, {"title": ""}, content_type="application/json")
    assert bad.status_code == 400
    services.start_stream(alice_room)
    stopped = client.post(f"{url}stop/").json()
    assert stopped["status"] == "ended" and stopped["accepting_streams"] is False
    assert client.post(f"{url}start/").json()["accepting_streams"] is True


@pytest.mark.parametrize(
    "slug", ["ab", "-abc", "abc-", "ABC!", "a b c", "x" * 61, "new", "../etc", "ümlaut"]
)
def test_a_bad_chosen_address_is_refused(alice, slug):
    from rooms.errors import InvalidRoom

    with pytest.raises(InvalidRoom) as refused:
        services.create_room(alice, "Title", slug=slug)
    assert refused.value.field == "slug"
    assert not Room.objects.filter(title="Title").exists()


def test_a_broadcaster_may_choose_the_address_once(client, alice, alice_room):
    client.force_login(alice)
    response = client.post("/api/rooms/", {"title": "Jazz", "slug": "Night-Jazz"},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 201 and response.json()["slug"] == "night-jazz"
    taken = client.post("/api/rooms/", {"title": "Jazz 2", "slug": "night-jazz"},
                        content_type="application/json")  # fmt: skip
    assert taken.status_code == 400 and "taken" in taken.json()["slug"][0]
    page = client.post("/rooms/new/", {"title": "Blues", "slug": "late-blues"})
    assert page.status_code == 302 and page["Location"] == "/rooms/late-blues/"


def test_a_refused_new_room_says_which_field_is_wrong(client, alice):
    client.force_login(alice)
    response = client.post("/rooms/new/", {"title": "Blues", "slug": "x" * 61}, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 1 and shown[0].startswith("Address:") and "60" in shown[0]
    assert not alice.rooms.filter(title="Blues").exists()


def test_unknown_room_actions_are_404(client, alice, alice_room):
    client.force_login(alice)
    assert client.post(f"/api/rooms/{alice_room.slug}/explode/").status_code == 404
    assert client.post("/api/rooms/no-such-room/stop/").status_code == 404
