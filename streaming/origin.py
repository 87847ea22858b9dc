"""The HLS origin: `/hls/<room-slug>/...` served from `HLS_ROOT/<room-slug>/`.

For single-machine installs the web process serves the transcoders' files itself, with
the headers a CDN (or `deploy/nginx.conf`) caches by: playlists change every segment
so they live `HLS_PLAYLIST_MAX_AGE` (1 s, never more than half a segment), segments and
their names never change so they are `immutable`. Validators (ETag, Last-Modified),
single byte ranges and CORS for `CORS_ALLOWED_ORIGINS` are handled here.

`respond()` knows nothing of Django's request cycle: `streaming/origin_asgi.py` answers
`/hls/` before Django, because every player polls the playlist about once a second and
the full middleware stack (sessions, CSRF, messages...) cost 25x more per request than
the answer itself (bench/bench_origin.py). Files are read on the origin's own thread pool
(infra/thread_pools.py): a segment is at most a few hundred kilobytes, so one read
beats streaming it through the loop.

Low-Latency HLS (RFC 8216bis 6.2.5): a playlist request with ``_HLS_msn`` (and
``_HLS_part``) is held until the transcoder publishes that part, woken by
``playlist_watch`` (no thread and no polling per request), at most three target
durations (then 503); a malformed or too-far-ahead directive is 400
(``blocking_reload``). ``_HLS_skip=YES`` answers the delta form. Held answers are
cacheable for a target duration, keyed by the query (``deploy/nginx.conf``): every
player asking for the same part gets the same bytes. A request for the part named by
``EXT-X-PRELOAD-HINT`` is held the same way until that part exists.

Several ingest machines (`HLS_NODE_ROUTING`): the files are on the machine whose ingest
holds the room, so this answers only where they are: an X-Accel-Redirect to the edge
nginx's internal location for that node (`streaming/hls_nodes.py`), after the same name
and directive checks; the node's own origin holds blocking reloads.

Path safety: only names made of plain path segments with a known media suffix are
looked at, and the file's real path (symlinks resolved) must be exactly the requested
path under the real `HLS_ROOT`, so `..`, encoded separators, absolute paths and
symlinks pointing anywhere are all 404.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.http import http_date, parse_http_date_safe

from infra import thread_pools
from streaming import blocking_reload, conf, hls_nodes
from streaming.blocking_reload import BadDirective, Readiness
from streaming.playlist_watch import watcher
from streaming.transcoder.playlist import (
    MediaPlaylist,
    delta_playlist,
    parse_media_playlist,
    render_media_playlist,
)
from streaming.transcoder.rendition_playlist import LIVE_PLAYLIST, PART_NAME

PLAYLIST = ".m3u8"
CONTENT_TYPES = {
    PLAYLIST: "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".jpg": "image/jpeg",
}
THUMBNAIL_MAX_AGE = 2  # rewritten every few seconds under the same name
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")
_PART = re.compile(r"[A-Za-z0-9_][-A-Za-z0-9_.]{0,127}")
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
# More digits than any file size has: read as "beyond every file" instead of parsed, so a
# header with thousands of digits costs nothing (int() refuses over 4,300 digits anyway).
_MAX_DIGITS = 18
_BEYOND_ANY_FILE = 10**_MAX_DIGITS
PARSED_PLAYLISTS_KEPT = 512
# The edge nginx's internal location that proxies to an ingest node (HLS_NODE_ROUTING).
NODE_LOCATION = "/_hls_node/"
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_=&]*")


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    modified: float
    etag: str
    content_type: str
    cache_control: str


def media_path(hls_root: Path, slug: str, path: str) -> str | None:
    """The real path of a servable file, or None if the request names anything else."""
    parts = path.split("/")
    if not _SLUG.fullmatch(slug) or not all(_PART.fullmatch(part) for part in parts):
        return None
    if os.path.splitext(parts[-1])[1] not in CONTENT_TYPES or ".." in path:
        return None
    expected = os.path.join(os.path.realpath(hls_root), slug, *parts)
    return expected if os.path.realpath(expected) == expected else None


def read_media_file(real_path: str) -> MediaFile | None:
    try:
        descriptor = os.open(real_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        data = file.read()
    suffix = os.path.splitext(real_path)[1]
    return MediaFile(
        data=data,
        modified=info.st_mtime,
        etag=f'"{info.st_mtime_ns:x}-{info.st_size:x}"',
        content_type=CONTENT_TYPES[suffix],
        cache_control=_cache_control(suffix),
    )


def _cache_control(suffix: str) -> str:
    if suffix == PLAYLIST:
        return f"public, max-age={conf.hls_playlist_max_age()}"
    if suffix == ".jpg":
        return f"public, max-age={THUMBNAIL_MAX_AGE}"
    return f"public, max-age={conf.hls_segment_max_age()}, immutable"


@dataclass
class OriginResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


ALLOWED_METHODS = ("GET", "HEAD")


async def respond(
    method: str, path: str, headers: dict[str, str], query: str = ""
) -> OriginResponse:
    """Answer one request for `path` (`/hls/<slug>/<file>`); `headers` keys lowercase,
    `query` the raw query string."""
    cors = _cors_headers(headers.get("origin"))
    if method == "OPTIONS":
        return OriginResponse(204, cors + _preflight_headers(cors))
    if method not in ALLOWED_METHODS:
        return OriginResponse(405, [("Allow", ", ".join(ALLOWED_METHODS))])
    slug, _, rest = path.removeprefix("/hls/").partition("/")
    if conf.hls_node_routing():
        return await _routed_to_node(slug, rest, query, cors)
    real_path = media_path(conf.hls_root(), slug, rest)
    if real_path and real_path.endswith(PLAYLIST) and query:
        try:
            directives = blocking_reload.parse_directives(query)
        except BadDirective as error:
            return _refusal(400, f"Bad request: {error}", cors)
        if directives.blocking or directives.skip:
            return await _directed_playlist(real_path, directives, headers, cors)
    media = None
    if real_path:
        loop = asyncio.get_running_loop()
        reads = thread_pools.pool("origin-read", conf.origin_read_threads())
        media = await loop.run_in_executor(reads, read_media_file, real_path)
    if media is None and real_path and PART_NAME.match(os.path.basename(real_path)):
        media = await _hinted_part(real_path)
    if media is None:
        return OriginResponse(404, [("Content-Type", "text/plain"), *cors], b"Not found\n")
    return _media_response(media, headers, cors)


ROUTED_CORS = "X-HLS-Allow-Origin"  # read by the edge's internal location


async def _routed_to_node(
    slug: str, rest: str, query: str, cors: list[tuple[str, str]]
) -> OriginResponse:
    """Several ingest machines: send the request on to the node holding the room. nginx
    follows X-Accel-Redirect to its internal location, which proxies to that node's HLS
    server (deploy/nginx-hls-edge-cluster.conf); the answer is cached by the request's
    own URL, so viewers never see which node served it."""
    parts = rest.split("/")
    if not _SLUG.fullmatch(slug) or not all(_PART.fullmatch(part) for part in parts):
        return OriginResponse(404, [("Content-Type", "text/plain"), *cors], b"Not found\n")
    if os.path.splitext(parts[-1])[1] not in CONTENT_TYPES or ".." in rest:
        return OriginResponse(404, [("Content-Type", "text/plain"), *cors], b"Not found\n")
    if not rest.endswith(PLAYLIST):
        query = ""  # only playlists take a query (the LL-HLS directives)
    try:
        blocking_reload.parse_directives(query)
    except BadDirective as error:
        return _refusal(400, f"Bad request: {error}", cors)
    if not _PLAIN_QUERY.fullmatch(query):
        return _refusal(400, "Bad request: unexpected characters in the query", cors)
    address = await hls_nodes.node_address(slug)
    if address is None:  # no ingest holds the room live
        return OriginResponse(404, [("Content-Type", "text/plain"), *cors], b"Not found\n")
    target = f"{NODE_LOCATION}{address}/hls/{slug}/{rest}" + (f"?{query}" if query else "")
    # The node's files carry no CORS of their own: the edge adds this verdict to the
    # node's answer (deploy/nginx-hls-edge-cluster.conf), its cache keyed by Origin.
    allowed = [(ROUTED_CORS, v) for name, v in cors if name == "Access-Control-Allow-Origin"]
    return OriginResponse(
        200, [("X-Accel-Redirect", target), ("Cache-Control", "no-store"), *allowed]
    )


def _media_response(
    media: MediaFile, headers: dict[str, str], cors: list[tuple[str, str]]
) -> OriginResponse:
    validators = [
        ("ETag", media.etag),
        ("Last-Modified", http_date(media.modified)),
        ("Cache-Control", media.cache_control),
        ("Accept-Ranges", "bytes"),
        *cors,
    ]
    if _not_modified(headers, media):
        return OriginResponse(304, validators)
    response = _full_or_partial(headers, media)
    response.headers += validators
    return response


def _refusal(status: int, message: str, cors: list[tuple[str, str]]) -> OriginResponse:
    return OriginResponse(
        status,
        [("Content-Type", "text/plain"), ("Cache-Control", "no-store"), *cors],
        f"{message}\n".encode(),
    )


_parsed: OrderedDict[tuple[str, str], MediaPlaylist] = OrderedDict()


def _parsed_playlist(real_path: str, media: MediaFile) -> MediaPlaylist:
    """Parsed once per version of the file, however many requests are waiting on it."""
    key = (real_path, media.etag)
    playlist = _parsed.get(key)
    if playlist is None:
        playlist = _parsed[key] = parse_media_playlist(media.data.decode("utf-8", "replace"))
        if len(_parsed) > PARSED_PLAYLISTS_KEPT:
            _parsed.popitem(last=False)
    return playlist


async def _directed_playlist(
    real_path: str, directives, headers: dict[str, str], cors: list[tuple[str, str]]
) -> OriginResponse:
    """A playlist request with delivery directives: held until it can be answered."""
    folder = os.path.dirname(real_path)
    loop = asyncio.get_running_loop()
    deadline = None
    while True:
        woken = watcher().arm(folder)
        # Playlists are a few kilobytes in the page cache: reading one here costs less
        # than handing it to a thread, and a thousand waiters wake on each part.
        media = read_media_file(real_path)
        if media is None:
            watcher().disarm(folder, woken)
            return _refusal(404, "Not found", cors)
        playlist = _parsed_playlist(real_path, media)
        state = blocking_reload.readiness(playlist, directives)
        if state is not Readiness.WAIT:
            watcher().disarm(folder, woken)
            break
        if deadline is None:
            deadline = loop.time() + blocking_reload.wait_limit(playlist)
        if not await watcher().wait(folder, woken, deadline - loop.time()):
            return _refusal(503, "The requested part did not appear in time", cors)
    if state is Readiness.TOO_FAR:
        return _refusal(400, "Bad request: _HLS_msn or _HLS_part too far ahead", cors)
    etag, body = media.etag, media.data
    if directives.skip and playlist.part_target:
        delta = delta_playlist(playlist)
        if delta.skipped_segments:
            etag, body = f'{media.etag[:-1]}-skip"', render_media_playlist(delta).encode()
    max_age = playlist.target_duration if directives.blocking else conf.hls_playlist_max_age()
    cache_control = f"public, max-age={max_age}"
    answered = MediaFile(body, media.modified, etag, media.content_type, cache_control)
    return _media_response(answered, headers, cors)


async def _hinted_part(real_path: str) -> MediaFile | None:
    """Wait for a part the playlist announces with EXT-X-PRELOAD-HINT."""
    folder = os.path.dirname(real_path)
    name = os.path.basename(real_path)
    loop = asyncio.get_running_loop()
    deadline = None
    while True:
        woken = watcher().arm(folder)
        media = read_media_file(real_path)
        if media is not None:
            watcher().disarm(folder, woken)
            return media
        playlist_path = os.path.join(folder, LIVE_PLAYLIST)
        playlist_file = read_media_file(playlist_path)
        playlist = playlist_file and _parsed_playlist(playlist_path, playlist_file)
        if playlist is None or playlist.preload_hint != name or playlist.ended:
            watcher().disarm(folder, woken)
            return None
        if deadline is None:
            deadline = loop.time() + blocking_reload.wait_limit(playlist)
        if not await watcher().wait(folder, woken, deadline - loop.time()):
            return None


def _cors_headers(origin: str | None) -> list[tuple[str, str]]:
    # Every answer varies by Origin, so a shared cache keeps one copy per origin.
    if origin and origin in conf.cors_allowed_origins():
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    return [("Vary", "Origin")]


def _preflight_headers(cors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not any(name == "Access-Control-Allow-Origin" for name, _ in cors):
        return []
    return [
        ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
        ("Access-Control-Allow-Headers", "Range, If-None-Match, If-Modified-Since"),
        ("Access-Control-Max-Age", "86400"),
    ]


def _not_modified(headers: dict[str, str], media: MediaFile) -> bool:
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return media.etag in tags or "*" in tags
    since = parse_http_date_safe(headers.get("if-modified-since", ""))
    return since is not None and int(media.modified) <= since


def _full_or_partial(headers: dict[str, str], media: MediaFile) -> OriginResponse:
    size = len(media.data)
    full = OriginResponse(200, [("Content-Type", media.content_type)], media.data)
    header = headers.get("range")
    if_range = headers.get("if-range")
    if header is None or (if_range is not None and if_range != media.etag):
        return full
    try:
        chosen = byte_range(header, size)
    except RangeNotSatisfiable:
        return OriginResponse(416, [("Content-Range", f"bytes */{size}")])
    if chosen is None:
        return full  # a malformed or multi-range request gets the whole file (RFC 9110)
    start, end = chosen
    return OriginResponse(
        206,
        [("Content-Type", media.content_type), ("Content-Range", f"bytes {start}-{end}/{size}")],
        media.data[start : end + 1],
    )


class RangeNotSatisfiable(Exception):
    """The range starts past the end of the file (answered 416)."""


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte a single-range `Range` header asks of a `size`-byte file.

    None when the header is malformed or asks for several ranges (the whole file is
    sent); RangeNotSatisfiable when it starts past the end."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(size - _position(last), 0), size - 1
    else:
        start, end = _position(first), min(_position(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable
    return start, end


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else _BEYOND_ANY_FILE
