"""The RTMP package's exceptions.

`ProtocolError` is the only exception that parsing untrusted bytes may raise, so the
server can close one misbehaving connection with a single except clause.
`PublishRejected` is the application's way to refuse a stream key; the server turns
it into an RTMP onStatus error that the broadcaster's software shows to the user.
"""


class RtmpError(Exception):
    """Base class of everything this package raises on purpose."""


class ProtocolError(RtmpError):
    """The peer sent bytes that break the protocol or one of our limits.

    Messages never quote the offending bytes: they could hold a stream key.
    """


class PublishRejected(RtmpError):
    """Raised by `authorize` to refuse a publish, e.g. an unknown stream key.

    `code` is an RTMP status code such as ``NetStream.Publish.BadName``; `description`
    is shown by some clients, so it must not echo the stream key either.
    """

    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(code, description)
        self.code = code
        self.description = description
