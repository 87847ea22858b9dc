"""The ASGI front of the HLS origin: `/hls/` is answered here, everything else by Django.

See `streaming/origin.py` for why HLS skips Django's request cycle. Django's request
metrics middleware does not see these requests, so they are counted here, by kind of file
and status (`livesite_hls_requests_total`, `livesite_hls_bytes_total` on /metrics).
"""

import os

from prometheus_client import Counter

from streaming import origin

PREFIX = "/hls/"
HLS_REQUESTS = Counter("livesite_hls_requests_total", "HLS origin requests", ["kind", "status"])
HLS_BYTES = Counter("livesite_hls_bytes_total", "HLS origin body bytes sent", ["kind"])
KINDS = {".m3u8": "playlist", ".ts": "segment", ".m4s": "segment", ".jpg": "thumbnail"}


def kind_of(path: str) -> str:
    return KINDS.get(os.path.splitext(path)[1], "other")


class HlsOrigin:
    def __init__(self, fallback) -> None:
        self.fallback = fallback

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.fallback(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        query = scope.get("query_string", b"").decode("latin-1")
        response = await origin.respond(scope["method"], scope["path"], headers, query)
        body = b"" if scope["method"] == "HEAD" else response.body
        length = str(len(response.body)) if response.status not in (204, 304) else None
        raw_headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers]
        if length is not None:
            raw_headers.append((b"content-length", length.encode()))
        await send(
            {"type": "http.response.start", "status": response.status, "headers": raw_headers}
        )
        await send({"type": "http.response.body", "body": body})
        kind = kind_of(scope["path"])
        HLS_REQUESTS.labels(kind, str(response.status)).inc()
        HLS_BYTES.labels(kind).inc(len(body))
