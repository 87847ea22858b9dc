"""Several ingest machines: the room -> node registry, and the origin routing viewers by it.

Two ingest nodes, "ingest-a" and "ingest-b", share the test's Redis. What a viewer sees
is the origin's answer to /hls/: an X-Accel-Redirect to the node holding the room, which
the edge nginx follows (livesite/tests/faults/test_ingest_cluster.py runs the real one).
"""

import pytest
from django.conf import settings

from realtime.redis_client import close_redis, get_sync_redis
from streaming.hls_nodes import NodeRegistry, room_key, slug_key
from streaming.ingest.live_lock import held_live_locks
from streaming.tests.test_origin import OriginClient

pytestmark = pytest.mark.services

ROOM_ID, SLUG = 7, "alices-room"


@pytest.fixture
async def nodes(redis_url):
    a = NodeRegistry(redis_url, settings.REDIS_KEY_PREFIX, "ingest-a", "10.0.0.5:8081", 60)
    b = NodeRegistry(redis_url, settings.REDIS_KEY_PREFIX, "ingest-b", "10.0.0.6:8081", 60)
    yield a, b
    await a.close()
    await b.close()
    await close_redis()


@pytest.fixture
def routing(settings, redis_url):
    settings.HLS_NODE_ROUTING = True


async def test_a_room_claimed_by_a_node_is_routed_to_its_address(nodes, routing):
    a, _ = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    answer = await OriginClient().get(f"/hls/{SLUG}/source/seg_4.m4s")
    assert answer.status_code == 200
    assert answer["X-Accel-Redirect"] == f"/_hls_node/10.0.0.5:8081/hls/{SLUG}/source/seg_4.m4s"
    assert answer["Cache-Control"] == "no-store"


async def test_a_blocking_reload_keeps_its_directives_on_the_way_to_the_node(nodes, routing):
    a, _ = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    answer = await OriginClient().get(f"/hls/{SLUG}/source/index.m3u8?_HLS_msn=12&_HLS_part=2")
    assert answer["X-Accel-Redirect"] == (
        f"/_hls_node/10.0.0.5:8081/hls/{SLUG}/source/index.m3u8?_HLS_msn=12&_HLS_part=2"
    )


async def test_a_room_no_node_holds_is_not_found(nodes, routing):
    answer = await OriginClient().get(f"/hls/{SLUG}/source/index.m3u8")
    assert answer.status_code == 404
    assert "X-Accel-Redirect" not in answer


@pytest.mark.parametrize(
    "path",
    [
        f"/hls/{SLUG}/../secret.ts",
        f"/hls/{SLUG}/source/%2e%2e/x.m4s",
        f"/hls/{SLUG}/source/seg_1.exe",
        f"/hls/{SLUG}//seg_1.m4s",
        "/hls/../../etc/passwd",
        f"/hls/{'x' * 61}/source/index.m3u8",
        f"/hls/{SLUG}/source/index.m3u8\r\nX-Evil: 1",
    ],
)
async def test_hostile_names_are_not_routed(nodes, routing, path):
    a, _ = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    answer = await OriginClient().get(path)
    assert answer.status_code == 404
    assert "X-Accel-Redirect" not in answer


@pytest.mark.parametrize(
    "query",
    ["_HLS_msn=x", "_HLS_part=1", "a=b", "_HLS_msn=1&_HLS_msn=2", "_HLS_msn=%31%0d%0a", "x" * 5000],
)
async def test_bad_directives_are_refused_before_routing(nodes, routing, query):
    a, _ = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    answer = await OriginClient().get(f"/hls/{SLUG}/source/index.m3u8?{query}")
    assert answer.status_code == 400
    assert "X-Accel-Redirect" not in answer


async def test_a_segments_query_is_dropped(nodes, routing):
    a, _ = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    answer = await OriginClient().get(f"/hls/{SLUG}/source/seg_4.m4s?anything=at/all")
    assert answer["X-Accel-Redirect"].endswith("/seg_4.m4s")


async def test_the_node_taking_a_room_over_continues_its_numbers(nodes):
    a, b = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    for sequence, discontinuity in [(0, False), (1, False), (2, True), (3, False)]:
        for _rendition in ("source", "720p", "480p"):  # one event per rendition
            await a.record_segment(ROOM_ID, sequence, discontinuity)
    handoff = await b.handoff(ROOM_ID)
    assert (handoff.node, handoff.stream_id) == ("ingest-a", 3)
    assert (handoff.last_sequence, handoff.discontinuity_sequence) == (3, 1)

    await b.claim(ROOM_ID, SLUG, stream_id=3, handoff=handoff)
    await b.record_segment(ROOM_ID, 4, True)
    await a.record_segment(ROOM_ID, 9, False)  # the old node, too late: ignored
    again = await a.handoff(ROOM_ID)
    assert (again.node, again.last_sequence, again.discontinuity_sequence) == ("ingest-b", 4, 2)


async def test_a_late_node_cannot_clear_its_successors_entry(nodes):
    a, b = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    await b.claim(ROOM_ID, SLUG, stream_id=3, handoff=await b.handoff(ROOM_ID))
    await a.clear(ROOM_ID, SLUG)
    client = get_sync_redis(decode_responses=True)
    assert client.hget(room_key(settings.REDIS_KEY_PREFIX, ROOM_ID), "node") == "ingest-b"
    assert client.get(slug_key(settings.REDIS_KEY_PREFIX, SLUG)) == "10.0.0.6:8081"
    await b.clear(ROOM_ID, SLUG)
    assert not client.exists(room_key(settings.REDIS_KEY_PREFIX, ROOM_ID))
    assert not client.exists(slug_key(settings.REDIS_KEY_PREFIX, SLUG))


async def test_a_dead_nodes_room_is_not_abandoned_while_its_entry_waits(nodes):
    a, _ = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    # No live lock (it expired with its node), but the entry waits out the grace.
    assert held_live_locks([ROOM_ID, ROOM_ID + 1]) == {ROOM_ID}


async def test_a_segment_recorded_late_never_moves_the_sequence_back(nodes):
    a, b = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    await a.record_segment(ROOM_ID, 6, False)
    await a._segment(keys=[room_key(settings.REDIS_KEY_PREFIX, ROOM_ID)], args=["ingest-a", 5, 0])
    handoff = await b.handoff(ROOM_ID)
    assert handoff.last_sequence == 6


async def test_the_edge_is_told_the_cors_verdict_for_the_node_s_answer(nodes, routing, settings):
    """The node's files carry no CORS headers: the redirect says whom the edge may allow."""
    settings.CORS_ALLOWED_ORIGINS = ["https://player.example"]
    a, _ = nodes
    await a.claim(ROOM_ID, SLUG, stream_id=3, handoff=None)
    path = f"/hls/{SLUG}/source/seg_4.m4s"
    allowed = await OriginClient().get(path, HTTP_ORIGIN="https://player.example")
    assert allowed["X-HLS-Allow-Origin"] == "https://player.example"
    other = await OriginClient().get(path, HTTP_ORIGIN="https://elsewhere.example")
    assert "X-HLS-Allow-Origin" not in other and "X-Accel-Redirect" in other
