"""The HLS origin: CDN-correct headers, validators, ranges, and nothing outside a room.

Requests go through the ASGI app daphne runs (`livesite.asgi.application`), so the
`/hls/` front (streaming/origin_asgi.py) is what is tested.
"""

import os
from dataclasses import dataclass
from urllib.parse import unquote

import pytest
from asgiref.testing import ApplicationCommunicator

from livesite.asgi import application

SEGMENT = bytes(range(256)) * 40


@dataclass
class Answer:
    status_code: int
    headers: dict
    content: bytes

    def __getitem__(self, name):
        return self.headers[name.lower()]

    def __contains__(self, name):
        return name.lower() in self.headers


class OriginClient:
    """Speaks ASGI to the application as daphne does (the path arrives percent-decoded)."""

    async def request(self, method, path, **headers):
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": unquote(raw_path),
            "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
            "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
            "headers": [(b"host", b"testserver")]
            + [(name.removeprefix("HTTP_").replace("_", "-").lower().encode(), value.encode())
               for name, value in headers.items()],
        }  # fmt: skip
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(5)
        body = b""
        while True:
            message = await communicator.receive_output(5)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        names = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return Answer(start["status"], names, body)

    async def get(self, path, **headers):
        return await self.request("GET", path, **headers)

    async def post(self, path, **headers):
        return await self.request("POST", path, **headers)


@pytest.fixture
def client():
    return OriginClient()


@pytest.fixture
def hls_root(tmp_path, settings):
    settings.HLS_ROOT = tmp_path / "hls"
    room = settings.HLS_ROOT / "alices-room"
    (room / "source").mkdir(parents=True)
    (room / "master.m3u8").write_text("#EXTM3U\nsource/index.m3u8\n")
    (room / "source" / "index.m3u8").write_text("#EXTM3U\n#EXTINF:2.0,\nseg_0.ts\n")
    (room / "source" / "seg_0.ts").write_bytes(SEGMENT)
    (room / "thumbnail.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path / "secret.ts").write_bytes(b"outside")
    (tmp_path / "hls" / "bobs-room").mkdir()
    (tmp_path / "hls" / "bobs-room" / "private.m3u8").write_text("#EXTM3U\n")
    return settings.HLS_ROOT


async def test_it_serves_the_master_playlist_briefly_cached(client, hls_root):
    response = await client.get("/hls/alices-room/master.m3u8")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    assert response["Cache-Control"] == "public, max-age=1"
    assert response.content.startswith(b"#EXTM3U")


async def test_it_serves_segments_as_immutable(client, hls_root):
    response = await client.get("/hls/alices-room/source/seg_0.ts")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp2t"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.content == SEGMENT
    assert response["ETag"] and response["Last-Modified"]


async def test_it_answers_not_modified_to_a_matching_etag(client, hls_root):
    etag = (await client.get("/hls/alices-room/source/seg_0.ts"))["ETag"]
    response = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""


async def test_it_answers_not_modified_since_last_modified(client, hls_root):
    last_modified = (await client.get("/hls/alices-room/master.m3u8"))["Last-Modified"]
    response = await client.get(
        "/hls/alices-room/master.m3u8", HTTP_IF_MODIFIED_SINCE=last_modified
    )
    assert response.status_code == 304


async def test_it_serves_byte_ranges(client, hls_root):
    response = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert response.content == SEGMENT[10:20]
    assert response["Content-Range"] == f"bytes 10-19/{len(SEGMENT)}"


async def test_it_serves_suffix_and_open_ranges(client, hls_root):
    tail = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_RANGE="bytes=-5")
    assert tail.content == SEGMENT[-5:]
    rest = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_RANGE="bytes=100-")
    assert rest.content == SEGMENT[100:]


async def test_it_refuses_a_range_past_the_end(client, hls_root):
    response = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_RANGE="bytes=999999-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(SEGMENT)}"


async def test_it_sends_cors_headers_to_allowed_origins(client, hls_root, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://player.example"]
    response = await client.get(
        "/hls/alices-room/master.m3u8", HTTP_ORIGIN="https://player.example"
    )
    assert response["Access-Control-Allow-Origin"] == "https://player.example"
    other = await client.get("/hls/alices-room/master.m3u8", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other


async def test_it_serves_the_thumbnail(client, hls_root):
    response = await client.get("/hls/alices-room/thumbnail.jpg")
    assert response["Content-Type"] == "image/jpeg"


async def test_unknown_rooms_and_files_are_404(client, hls_root):
    assert (await client.get("/hls/nobody/master.m3u8")).status_code == 404
    assert (await client.get("/hls/alices-room/source/seg_9.ts")).status_code == 404
    assert (await client.get("/hls/alices-room/notes.txt")).status_code == 404


async def test_writes_are_refused(client, hls_root):
    assert (await client.post("/hls/alices-room/master.m3u8")).status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/hls/alices-room/../secret.ts",
        "/hls/alices-room/source/../../bobs-room/private.m3u8",
        "/hls/alices-room/%2e%2e/%2e%2e/secret.ts",
        "/hls/alices-room/..%2f..%2fsecret.ts",
        "/hls/alices-room/%2Fetc%2Fpasswd.ts",
        "/hls/alices-room//etc/passwd.ts",
        "/hls/alices-room/source%5c..%5c..%5csecret.ts",
        "/hls/../secret.ts",
        "/hls/alices-room/.%2e/secret.ts",
    ],
)
async def test_path_traversal_is_impossible(client, hls_root, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert b"outside" not in response.content


async def test_symlinks_out_of_the_room_are_not_followed(client, hls_root, tmp_path):
    os.symlink(tmp_path / "secret.ts", hls_root / "alices-room" / "source" / "seg_5.ts")
    os.symlink(tmp_path, hls_root / "alices-room" / "escape")
    os.symlink(hls_root / "bobs-room", hls_root / "linked-room")
    assert (await client.get("/hls/alices-room/source/seg_5.ts")).status_code == 404
    assert (await client.get("/hls/alices-room/escape/secret.ts")).status_code == 404
    assert (await client.get("/hls/linked-room/private.m3u8")).status_code == 404


async def test_head_sends_headers_without_a_body(client, hls_root):
    response = await client.request("HEAD", "/hls/alices-room/source/seg_0.ts")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(SEGMENT))
    assert response.content == b""


async def test_preflight_allows_range_for_allowed_origins(client, hls_root, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://player.example"]
    response = await client.request(
        "OPTIONS", "/hls/alices-room/master.m3u8", HTTP_ORIGIN="https://player.example"
    )
    assert response.status_code == 204
    assert "Range" in response["Access-Control-Allow-Headers"]


async def test_other_paths_still_reach_django(client, db):
    assert (await client.get("/healthz")).status_code == 200


async def test_origin_requests_are_counted_on_the_metrics_page(client, hls_root):
    from prometheus_client import REGISTRY

    def count(kind, status):
        value = REGISTRY.get_sample_value(
            "livesite_hls_requests_total", {"kind": kind, "status": status}
        )
        return value or 0

    before = (count("segment", "200"), count("playlist", "404"))
    await client.get("/hls/alices-room/source/seg_0.ts")
    await client.get("/hls/alices-room/missing.m3u8")
    assert (count("segment", "200"), count("playlist", "404")) == (before[0] + 1, before[1] + 1)
    metrics = await client.get("/metrics")
    assert b"livesite_hls_requests_total" in metrics.content


async def test_a_range_with_thousands_of_digits_is_not_satisfiable(client, hls_root):
    # Before: int() refused the 5,000-digit number and the origin answered 500.
    huge = "9" * 5000
    response = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_RANGE=f"bytes={huge}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(SEGMENT)}"
    # A huge end or suffix is "to the end of the file", as RFC 9110 reads it.
    whole = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_RANGE=f"bytes=0-{huge}")
    assert whole.status_code == 206 and whole.content == SEGMENT
    suffix = await client.get("/hls/alices-room/source/seg_0.ts", HTTP_RANGE=f"bytes=-{huge}")
    assert suffix.status_code == 206 and suffix.content == SEGMENT
