"""Two ingest "machines" behind one public address for RTMP and HLS; one is killed.

Alice and Erin broadcast through the one RTMP address (the shipped stream balancer puts
them on different ingests); viewers read both rooms through the one /hls/ address.
Then alice's ingest gets SIGKILL. Her encoder reconnects to the same address (the test
restarts ffmpeg, as OBS retries), lands on the other ingest once the dead one's live
lock expires, and her room's playlist, at the same URL, continues the same stream:
the next media sequence number, an EXT-X-DISCONTINUITY, within the reconnect grace.
Erin's room never notices. Finally the dead node's HLS server goes too (its machine is
lost): alice's room is still served, from the node that holds it now.
"""

import os
import signal
import threading
import time

import pytest
from django.conf import settings

from accounts import services as accounts
from realtime.redis_client import get_sync_redis
from rooms import services
from rooms.models import Room
from streaming.hls_nodes import room_key
from streaming.tests.live_ingest import ffmpeg_publish, wait_for
from streaming.transcoder.playlist import parse_media_playlist

from .video_cluster import PLAYER_ORIGIN, video_cluster

pytestmark = [
    pytest.mark.faults,
    pytest.mark.services,
    pytest.mark.media,
    pytest.mark.django_db(transaction=True),
]

LOCK_TTL = 3  # seconds, the smallest INGEST_LOCK_TTL allows
GRACE = 20  # INGEST_RECONNECT_GRACE
CLUSTER_ENV = {"INGEST_LOCK_TTL": str(LOCK_TTL), "INGEST_RECONNECT_GRACE": str(GRACE)}
PUBLISH_SECONDS = 150


@pytest.fixture
def erin_room(db):
    erin = accounts.enable_broadcasting(
        accounts.sign_up("erin", "erin@example.com", "correct horse 123")
    )
    return services.create_room(erin, "Erin's Room", "Knitting", "Crafts")


def registry(room) -> dict:
    client = get_sync_redis(decode_responses=True)
    return client.hgetall(room_key(settings.REDIS_KEY_PREFIX, room.pk))


def playlist_url(room) -> str:
    return f"/hls/{room.slug}/source/index.m3u8"


def read_playlist(cluster, room):
    status, _headers, body = cluster.get(playlist_url(room))
    if status != 200:
        return None
    return parse_media_playlist(body.decode())


class PlaylistWatch(threading.Thread):
    """A viewer of a room: reads its public playlist every half second."""

    def __init__(self, cluster, room):
        super().__init__(daemon=True)
        self.cluster, self.room = cluster, room
        self.samples = []  # (status, last sequence, any discontinuity)
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.5):
            status, _headers, body = self.cluster.get(playlist_url(self.room))
            playlist = parse_media_playlist(body.decode()) if status == 200 else None
            if playlist is None or not playlist.segments:
                self.samples.append((status, None, None))
                continue
            segments = playlist.segments
            self.samples.append(
                (status, segments[-1].sequence, any(s.discontinuity for s in segments))
            )


def publish_until_held(cluster, key, room, node_id, timeout):
    """Start the encoder again and again (as OBS retries) until `node_id` holds the room."""
    deadline = time.monotonic() + timeout
    publisher = None
    while time.monotonic() < deadline:
        if publisher is None or publisher.poll() is not None:
            publisher = ffmpeg_publish(cluster.rtmp_url(key), seconds=PUBLISH_SECONDS)
        if registry(room).get("node") == node_id:
            return publisher
        time.sleep(0.2)
    publisher.kill()
    raise AssertionError(f"{node_id} did not take the room over within {timeout} s")


def test_a_killed_ingests_rooms_continue_on_the_other_ingest_at_the_same_address(
    shared_services, tmp_path, alice, alice_room, erin_room
):
    alice_key = services.rotate_stream_key(alice_room, alice)
    erin_key = services.rotate_stream_key(erin_room, erin_room.owner)
    publishers = []
    with video_cluster(tmp_path, ingest_env=CLUSTER_ENV) as cluster:
        try:
            publishers.append(ffmpeg_publish(cluster.rtmp_url(alice_key), PUBLISH_SECONDS))
            wait_for(lambda: registry(alice_room).get("node"), timeout=30)
            publishers.append(ffmpeg_publish(cluster.rtmp_url(erin_key), PUBLISH_SECONDS))
            wait_for(lambda: registry(erin_room).get("node"), timeout=30)
            doomed_id, other_id = registry(alice_room)["node"], registry(erin_room)["node"]
            assert doomed_id != other_id, "the balancer put both rooms on one ingest"

            # Both rooms play through the one public address.
            for room in (alice_room, erin_room):
                wait_for(lambda r=room: (p := read_playlist(cluster, r)) and len(p.segments) >= 2,
                         timeout=30)  # fmt: skip
            playlist = read_playlist(cluster, alice_room)
            segment = f"/hls/{alice_room.slug}/source/{playlist.segments[-1].uri}"
            assert cluster.get(segment)[0] == 200
            status, headers, _ = cluster.get(segment)
            assert (status, headers.get("X-Cache-Status")) == (200, "HIT")
            # A player on another site that CORS allows reads the node's files too.
            _, headers, _ = cluster.get(segment, Origin=PLAYER_ORIGIN)
            assert headers.get("Access-Control-Allow-Origin") == PLAYER_ORIGIN
            _, headers, _ = cluster.get(segment, Origin="https://elsewhere.example")
            assert "Access-Control-Allow-Origin" not in headers
            # An LL-HLS blocking reload, through the origin's redirect, to the node.
            wanted = playlist.segments[-1].sequence + 1
            blocking = f"{playlist_url(alice_room)}?_HLS_msn={wanted}&_HLS_part=0"
            status, _, body = cluster.get(blocking)
            assert status == 200 and f"part_{wanted}_0.m4s" in body.decode()

            erin_viewer = PlaylistWatch(cluster, erin_room)
            erin_viewer.start()
            stream_id = Room.objects.get(pk=alice_room.pk).current_stream_id

            doomed = cluster.node(doomed_id)
            os.kill(doomed.ingest.process.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            doomed.ingest.process.wait(timeout=10)
            before = registry(alice_room)
            last, discontinuities = int(before["msn"]), int(before["dsn"])
            publishers[0].kill()  # the encoder notices its connection dropped

            publishers[0] = publish_until_held(
                cluster, alice_key, alice_room, other_id, timeout=GRACE
            )
            taken_over = time.monotonic() - killed_at

            def continued():
                playlist = read_playlist(cluster, alice_room)
                return (
                    playlist
                    if playlist and any(s.sequence == last + 1 for s in playlist.segments)
                    else None
                )

            playlist = wait_for(continued, timeout=GRACE)
            resumed = time.monotonic() - killed_at
            print(f"alice's room: taken over {taken_over:.1f} s and playing "
                  f"{resumed:.1f} s after her ingest was killed")  # fmt: skip
            assert resumed < GRACE

            first = next(s for s in playlist.segments if s.sequence == last + 1)
            assert first.discontinuity
            assert all(s.sequence > last for s in playlist.segments)
            assert playlist.discontinuity_sequence == discontinuities
            room = Room.objects.get(pk=alice_room.pk)
            assert (room.status, room.current_stream_id) == ("live", stream_id)

            # The dead machine's HLS server goes too: the room plays from the new node.
            doomed.nginx.kill()
            doomed.nginx.wait(timeout=10)
            newest = playlist.segments[-1].sequence

            def advanced():
                playlist = read_playlist(cluster, alice_room)
                return playlist and playlist.segments[-1].sequence > newest

            wait_for(advanced, timeout=10)

            erin_viewer.stopping.set()
            erin_viewer.join(timeout=15)
            sequences = [sample[1] for sample in erin_viewer.samples]
            assert all(sample[0] == 200 for sample in erin_viewer.samples), erin_viewer.samples
            assert sequences == sorted(sequences), "erin's playlist went back"
            assert sequences[-1] - sequences[0] >= 3, "erin's playlist stopped advancing"
            assert not any(sample[2] for sample in erin_viewer.samples)
            assert registry(erin_room)["node"] == other_id
            assert publishers[1].poll() is None, "erin's encoder was dropped"
        finally:
            for publisher in publishers:
                publisher.kill()
                publisher.wait(timeout=10)
