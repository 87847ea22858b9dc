"""What a restarted transcoder must be fed so it can pick up a stream mid-way.

A transcoder that crashed cannot be handed the next bytes of the publisher's FLV: it
needs the file header, the metadata and the codec set-up tags (AVC and AAC sequence
headers) first, and then a keyframe to start decoding from. The RTMP server hands us
whole tags, so this module splits each chunk into tags, remembers the set-up ones, and
after a restart holds media back until the next video keyframe.
"""

from __future__ import annotations

FLV_HEADER_SIZE = 13
TAG_HEADER_SIZE = 11
PREVIOUS_TAG_SIZE = 4
AUDIO_TAG, VIDEO_TAG, SCRIPT_TAG = 8, 9, 18
AAC = 10
KEYFRAME = 1
SEQUENCE_HEADER = 0


def split_tags(data: bytes) -> tuple[bytes, list[bytes]]:
    """(file header or b"", whole tags each with its previous-tag-size trailer)."""
    header = b""
    if data.startswith(b"FLV"):
        header, data = data[:FLV_HEADER_SIZE], data[FLV_HEADER_SIZE:]
    tags, offset = [], 0
    while offset + TAG_HEADER_SIZE <= len(data):
        body_size = int.from_bytes(data[offset + 1 : offset + 4], "big")
        end = offset + TAG_HEADER_SIZE + body_size + PREVIOUS_TAG_SIZE
        tags.append(data[offset:end])
        offset = end
    return header, tags


def _is_setup(tag: bytes) -> bool:
    kind, body = tag[0], tag[TAG_HEADER_SIZE:]
    if kind == SCRIPT_TAG:
        return True
    if len(body) < 2:
        return False
    if kind == VIDEO_TAG:
        return body[1] == SEQUENCE_HEADER and body[0] & 0x0F == 7  # AVC
    return kind == AUDIO_TAG and body[0] >> 4 == AAC and body[1] == SEQUENCE_HEADER


def _is_keyframe(tag: bytes) -> bool:
    if tag[0] != VIDEO_TAG or len(tag) <= TAG_HEADER_SIZE:
        return False
    return tag[TAG_HEADER_SIZE] >> 4 == KEYFRAME


class FlvResume:
    """Tracks one publish's set-up tags; `restart()` then `feed()` gives resumable bytes."""

    def __init__(self) -> None:
        self.header = b""
        self._setup: dict[tuple[int, int], bytes] = {}
        self._waiting_for_keyframe = False

    def restart(self) -> bytes:
        """The prefix a fresh transcoder needs; media waits for the next keyframe."""
        self._waiting_for_keyframe = True
        return self.header + b"".join(self._setup.values())

    def feed(self, data: bytes) -> bytes:
        """Remember set-up tags in `data`; return what the transcoder should get now."""
        header, tags = split_tags(data)
        if header:
            self.header = header
        for tag in tags:
            if _is_setup(tag):
                self._setup[tag[0]] = tag  # the latest of each kind wins
        if not self._waiting_for_keyframe:
            return data
        for index, tag in enumerate(tags):
            if _is_keyframe(tag):
                self._waiting_for_keyframe = False
                return b"".join(tags[index:])
        return b""
