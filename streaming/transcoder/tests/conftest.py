"""Broadcasts shared by the transcoder tests, made once per session.

Small (640x360, a few seconds) so the suite stays quick on two cores; one 720p
broadcast for the ladder.
"""

import pytest

from streaming.transcoder.tests.broadcasts import make_broadcast


@pytest.fixture(scope="session")
def broadcasts(tmp_path_factory):
    return tmp_path_factory.mktemp("broadcasts")


@pytest.fixture(scope="session")
def h264_broadcast(broadcasts):
    """What OBS sends by default: H.264 + AAC, a keyframe every 2 s."""
    return make_broadcast(broadcasts / "h264.flv", seconds=5)


@pytest.fixture(scope="session")
def hd_broadcast(broadcasts):
    return make_broadcast(broadcasts / "hd.flv", size="1280x720", seconds=5)


@pytest.fixture(scope="session")
def one_second_keyframes_broadcast(broadcasts):
    return make_broadcast(broadcasts / "gop1.flv", seconds=6, keyframe_seconds=1)


@pytest.fixture(scope="session")
def hevc_broadcast(broadcasts):
    return make_broadcast(broadcasts / "hevc.flv", video_codec="libx265")


@pytest.fixture(scope="session")
def mp3_broadcast(broadcasts):
    return make_broadcast(broadcasts / "mp3.flv", audio_codec="mp3")


@pytest.fixture(scope="session")
def video_only_broadcast(broadcasts):
    return make_broadcast(broadcasts / "video_only.flv", audio_codec=None)


@pytest.fixture(scope="session")
def irregular_keyframes_broadcast(broadcasts):
    """Keyframes every 1.5 s, so 2 s segments can only be cut every 3 s."""
    return make_broadcast(broadcasts / "gop1.5.flv", seconds=6, keyframe_seconds=1.5)


@pytest.fixture(scope="session")
def frequent_keyframes_broadcast(broadcasts):
    """Keyframes every half second, as some hardware encoders send."""
    return make_broadcast(broadcasts / "gop0.5.flv", seconds=4, keyframe_seconds=0.5)
