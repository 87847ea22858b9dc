"""Signals the rooms app sends, for apps that react to rooms without rooms knowing them.

`stream_started(sender=Room, room=..., stream=...)` is sent once the transaction that
made a new stream live commits (never for a room that was already live). Receivers
must return quickly: the ingest waits for `start_stream`; slow work goes to Celery
(notifications.apps connects the go-live fan-out here). A failing receiver is logged
and never undoes or delays the stream's start.
"""

import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

stream_started = Signal()


def send_stream_started(room, stream) -> None:
    for receiver, result in stream_started.send_robust(sender=type(room), room=room, stream=stream):
        if isinstance(result, Exception):
            log.error(
                "stream_started receiver %r failed for room %s",
                receiver,
                room.pk,
                exc_info=result,
            )
