"""What an SDP offer must be before it reaches aiortc.

aiortc parses leniently and fails late (or with an exception deep in the stack) on
hostile text, so the web view checks the shape of the offer first and answers 400 or
413 with a reason a developer can act on.
"""

from __future__ import annotations

MAX_OFFER_BYTES = 64 * 1024
VIDEO_CODECS = ("h264", "vp8")


class BadOffer(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def check_offer(body: bytes, need_video: bool = True) -> str:
    """The offer as text, or `BadOffer` saying what is wrong with it."""
    if len(body) > MAX_OFFER_BYTES:
        raise BadOffer(f"the offer is larger than {MAX_OFFER_BYTES} bytes", status=413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadOffer("the offer is not UTF-8 text") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "v=0":
        raise BadOffer("the offer is not an SDP session description (it must start with v=0)")
    if any(len(line) < 2 or line[1] != "=" for line in lines):
        raise BadOffer("the offer has a line that is not <type>=<value>")
    media = [line[2:].split() for line in lines if line.startswith("m=")]
    if any(len(words) < 4 for words in media):
        raise BadOffer("the offer has a malformed m= line")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise BadOffer("the offer has no DTLS fingerprint")
    if not any(line.startswith("a=ice-ufrag:") for line in lines):
        raise BadOffer("the offer has no ICE credentials")
    if need_video:
        if not any(words[0] == "video" for words in media):
            raise BadOffer("the offer has no video")
        rtpmap = " ".join(line.lower() for line in lines if line.startswith("a=rtpmap:"))
        if not any(f" {codec}/90000" in rtpmap for codec in VIDEO_CODECS):
            raise BadOffer("the offer's video is neither H.264 nor VP8")
    return text + ("" if text.endswith("\n") else "\r\n")
