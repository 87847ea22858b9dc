"""`stream.health` on the room socket reaches the room's owner and staff, nobody else."""

import pytest

from realtime.publish import apublish
from rooms import events

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = {
    "input_bitrate": 2_500_000,
    "fps": 30.0,
    "width": 1280,
    "height": 720,
    "video_codec": "h264",
    "audio_codec": "aac",
    "keyframe_interval": 2.0,
    "speed": 1.01,
}


async def test_health_goes_to_the_owner_and_staff_only(
    open_socket, alice_room, alice, bob, carol, dave
):
    owner = await open_socket(alice_room, alice)
    staff = await open_socket(alice_room, dave)
    moderator = await open_socket(alice_room, carol)
    viewer = await open_socket(alice_room, bob)
    anonymous = await open_socket(alice_room)

    await apublish(alice_room.pk, events.stream_health(alice_room, REPORT))
    await apublish(alice_room.pk, {"type": "room.status", "room": alice_room.slug,
                                   "status": "live", "stream": None})  # fmt: skip

    for manager in (owner, staff):
        health = await manager.expect("stream.health")
        assert health["width"] == 1280 and health["warnings"] == []
    for other in (moderator, viewer, anonymous):
        await other.expect("room.status")  # published after the health report
        assert not [frame for frame in other.seen if frame["type"] == "stream.health"]


async def test_the_stream_managers_monitor_socket_is_not_in_the_audience(
    open_socket, alice_room, alice, bob
):
    viewer = await open_socket(alice_room, bob)
    assert (await viewer.expect("presence.count", timeout=3))["viewers"] == 1
    monitor = await open_socket(alice_room, alice, path=f"/ws/rooms/{alice_room.slug}/?monitor=1")
    await apublish(alice_room.pk, events.stream_health(alice_room, REPORT))
    assert (await monitor.expect("stream.health"))["width"] == 1280
    # A second viewer is counted; the monitor never was.
    other = await open_socket(alice_room)
    count = await other.expect("presence.count", timeout=3, viewers=2)
    assert count["logged_in"] == 1
    await viewer.expect("presence.count", timeout=3, viewers=2)  # after any join of alice's
    joins = [f["user"]["id"] for f in viewer.seen if f["type"] == "presence.join"]
    assert alice.pk not in joins


async def test_only_managers_may_monitor(open_socket, alice_room, bob):
    """Anyone else asking for ?monitor=1 is an ordinary, counted viewer."""
    await open_socket(alice_room, bob, path=f"/ws/rooms/{alice_room.slug}/?monitor=1")
    watcher = await open_socket(alice_room)
    assert (await watcher.expect("presence.count", timeout=3, viewers=2))["logged_in"] == 1
