"""What the ingest raises to refuse a publisher, for every protocol."""


class PublishRefused(Exception):
    """A publish the ingest refuses, whatever the protocol; `kind` picks the answer
    (RTMP: NetStream.Publish.BadName; WHIP: 401, 403, 409 or 503)."""

    UNKNOWN_KEY = "unknown_key"
    NOT_ALLOWED = "not_allowed"
    ALREADY_LIVE = "already_live"
    UNAVAILABLE = "unavailable"

    def __init__(self, kind: str, description: str) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description
