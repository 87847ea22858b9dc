"""RTMP ingest: broadcasters publish here with a stream key, the app receives FLV.

The package is pure asyncio and imports nothing from Django, so the ingest process can
run it on its own event loop; the application plugs in through `authorize` and
`PublishSession` (see `server.py`).
"""
