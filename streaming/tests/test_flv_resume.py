"""What a restarted transcoder is fed: the set-up tags, then media from a keyframe."""

from streaming.ingest.flv_resume import FlvResume, split_tags
from streaming.rtmp.flv import AUDIO_TAG, SCRIPT_TAG, VIDEO_TAG, file_header, tag

HEADER = file_header(has_audio=True, has_video=True)
METADATA = tag(SCRIPT_TAG, 0, b"\x02\x00\x0aonMetaData")
AVC_CONFIG = tag(VIDEO_TAG, 0, b"\x17\x00\x00\x00\x00config")
AAC_CONFIG = tag(AUDIO_TAG, 0, b"\xaf\x00\x12\x10")
KEYFRAME = tag(VIDEO_TAG, 1000, b"\x17\x01\x00\x00\x00key")
INTER = tag(VIDEO_TAG, 1033, b"\x27\x01\x00\x00\x00inter")
AUDIO = tag(AUDIO_TAG, 1010, b"\xaf\x01sound")


def test_it_splits_a_chunk_into_header_and_tags():
    header, tags = split_tags(HEADER + METADATA + AVC_CONFIG)
    assert header == HEADER
    assert tags == [METADATA, AVC_CONFIG]


def test_it_passes_everything_through_before_a_restart():
    resume = FlvResume()
    chunk = HEADER + METADATA + AVC_CONFIG + AAC_CONFIG + KEYFRAME
    assert resume.feed(chunk) == chunk
    assert resume.feed(INTER) == INTER


def test_restart_replays_set_up_and_waits_for_a_keyframe():
    resume = FlvResume()
    resume.feed(HEADER + METADATA + AVC_CONFIG + AAC_CONFIG + KEYFRAME)
    resume.feed(INTER)
    assert resume.restart() == HEADER + METADATA + AVC_CONFIG + AAC_CONFIG
    assert resume.feed(INTER + AUDIO) == b""
    assert resume.feed(AUDIO + KEYFRAME + INTER) == KEYFRAME + INTER
    assert resume.feed(AUDIO) == AUDIO
