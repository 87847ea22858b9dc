import logging

import pytest


@pytest.fixture
def rtmp_log(caplog):
    """caplog, attached straight to `livesite.rtmp` at DEBUG.

    Attached directly (not through the root logger) so the capture still works when the
    project's LOGGING settings stop `livesite` loggers from propagating.
    """
    rtmp_logger = logging.getLogger("livesite.rtmp")
    saved = rtmp_logger.level, rtmp_logger.propagate
    rtmp_logger.setLevel(logging.DEBUG)
    rtmp_logger.propagate = False
    caplog.handler.setLevel(logging.DEBUG)
    rtmp_logger.addHandler(caplog.handler)
    yield caplog
    rtmp_logger.removeHandler(caplog.handler)
    rtmp_logger.level, rtmp_logger.propagate = saved
