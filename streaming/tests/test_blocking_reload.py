"""LL-HLS at the origin: a player's playlist request waits for the part it names.

The transcoder publishes by renaming files into the rendition folder; these tests do
the same from a task on the loop, and read answers through the ASGI front.
"""

import asyncio
import os
import time

import m3u8
import pytest

from streaming.tests.test_origin import OriginClient

PLAYLIST_URL = "/hls/alices-room/source/index.m3u8"


def live_playlist(complete: int, parts: int, target: int = 1) -> str:
    """`complete` one-second segments of three parts, then `parts` parts of the next."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:9",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-PART-INF:PART-TARGET=0.350",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.051,CAN-SKIP-UNTIL=6.0",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MAP:URI="init_0.mp4"',
    ]
    for sequence in range(complete):
        if sequence >= complete - 2:
            for index in range(3):
                lines.append(f'#EXT-X-PART:DURATION=0.333,URI="part_{sequence}_{index}.m4s"')
        lines += ["#EXTINF:1.000,", f"seg_{sequence}.m4s"]
    for index in range(parts):
        lines.append(f'#EXT-X-PART:DURATION=0.333,URI="part_{complete}_{index}.m4s"')
    lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_{complete}_{parts}.m4s"')
    return "\n".join(lines) + "\n"


def publish(folder, name: str, data: bytes) -> None:
    temporary = folder / f".{name}.tmp"
    temporary.write_bytes(data)
    os.replace(temporary, folder / name)


@pytest.fixture
def client():
    return OriginClient()


@pytest.fixture
def rendition(tmp_path, settings):
    settings.HLS_ROOT = tmp_path / "hls"
    folder = settings.HLS_ROOT / "alices-room" / "source"
    folder.mkdir(parents=True)
    publish(folder, "index.m3u8", live_playlist(complete=4, parts=1).encode())
    return folder


async def later(seconds: float, action) -> None:
    await asyncio.sleep(seconds)
    action()


async def test_a_request_for_the_next_part_is_answered_when_it_is_published(client, rendition):
    started = time.monotonic()
    publishing = asyncio.ensure_future(
        later(0.3, lambda: publish(rendition, "index.m3u8", live_playlist(4, 2).encode()))
    )
    response = await client.get(f"{PLAYLIST_URL}?_HLS_msn=4&_HLS_part=1")
    await publishing
    assert response.status_code == 200
    assert 0.25 < time.monotonic() - started < 1.0
    assert 'URI="part_4_1.m4s"' in response.content.decode()
    assert response["Cache-Control"] == "public, max-age=1"


async def test_a_part_already_listed_is_answered_at_once(client, rendition):
    started = time.monotonic()
    response = await client.get(f"{PLAYLIST_URL}?_HLS_msn=3&_HLS_part=2")
    assert response.status_code == 200 and time.monotonic() - started < 0.2


async def test_a_whole_segment_is_waited_for_without_a_part(client, rendition):
    publishing = asyncio.ensure_future(
        later(0.2, lambda: publish(rendition, "index.m3u8", live_playlist(4, 3).encode()))
    )
    finishing = asyncio.ensure_future(
        later(0.4, lambda: publish(rendition, "index.m3u8", live_playlist(5, 0).encode()))
    )
    response = await client.get(f"{PLAYLIST_URL}?_HLS_msn=4")
    await asyncio.gather(publishing, finishing)
    assert "seg_4.m4s" in response.content.decode()


async def test_a_part_that_never_comes_is_503_after_three_target_durations(client, rendition):
    started = time.monotonic()
    response = await client.get(f"{PLAYLIST_URL}?_HLS_msn=5")
    assert response.status_code == 503
    assert 2.9 < time.monotonic() - started < 4
    assert response["Cache-Control"] == "no-store"


async def test_an_ended_playlist_answers_at_once(client, rendition):
    publish(rendition, "index.m3u8", (live_playlist(4, 0) + "#EXT-X-ENDLIST\n").encode())
    response = await client.get(f"{PLAYLIST_URL}?_HLS_msn=5")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "_HLS_msn=7",  # more than two segments past the last one
        "_HLS_msn=4&_HLS_part=99",
        "_HLS_msn=abc",
        "_HLS_msn=-1",
        "_HLS_msn=1e3",
        "_HLS_msn=%EF%BC%91",  # a full-width digit one
        "_HLS_msn=%00",
        "_HLS_msn=",
        "_HLS_msn=99999999999999999999999999",
        "_HLS_msn=1&_HLS_msn=2",
        "_HLS_part=1",
        "_HLS_msn=1&_HLS_skip=NO",
        "_HLS_msn=1&cachebuster=1",
        "_HLS_msn=1&&&",
        "=1",
        "_HLS_msn=1;_HLS_part=2",
        "_HLS_msn=" + "1" * 300,
        "a=" + "%" * 500,
    ],
)
async def test_malformed_or_impossible_directives_are_400(client, rendition, query):
    response = await client.get(f"{PLAYLIST_URL}?{query}")
    assert response.status_code == 400
    assert response["Cache-Control"] == "no-store"


async def test_a_segment_ignores_a_query(client, rendition):
    publish(rendition, "seg_0.m4s", b"media")
    response = await client.get("/hls/alices-room/source/seg_0.m4s?_HLS_msn=x")
    assert response.status_code == 200 and response.content == b"media"


async def test_the_delta_form_skips_old_segments(client, rendition):
    publish(rendition, "index.m3u8", live_playlist(complete=12, parts=1).encode())
    response = await client.get(f"{PLAYLIST_URL}?_HLS_msn=12&_HLS_part=0&_HLS_skip=YES")
    playlist = m3u8.loads(response.content.decode())
    assert playlist.skip.skipped_segments == 6
    assert playlist.segments[0].uri == "seg_6.m4s"
    full = await client.get(f"{PLAYLIST_URL}?_HLS_msn=12&_HLS_part=0")
    assert response["ETag"] != full["ETag"]
    assert "EXT-X-SKIP" not in full.content.decode()


async def test_the_preload_hinted_part_is_sent_once_it_is_written(client, rendition):
    publishing = asyncio.ensure_future(
        later(0.3, lambda: publish(rendition, "part_4_1.m4s", b"the next part"))
    )
    response = await client.get("/hls/alices-room/source/part_4_1.m4s")
    await publishing
    assert response.status_code == 200 and response.content == b"the next part"
    assert "immutable" in response["Cache-Control"]


async def test_a_part_nobody_announced_is_404_at_once(client, rendition):
    started = time.monotonic()
    response = await client.get("/hls/alices-room/source/part_9_0.m4s")
    assert response.status_code == 404 and time.monotonic() - started < 0.2


async def test_many_waiters_wake_on_one_publish(client, rendition):
    requests = [client.get(f"{PLAYLIST_URL}?_HLS_msn=4&_HLS_part=1") for _ in range(200)]
    publishing = later(0.3, lambda: publish(rendition, "index.m3u8", live_playlist(4, 2).encode()))
    *responses, _ = await asyncio.gather(*requests, publishing)
    assert {response.status_code for response in responses} == {200}
