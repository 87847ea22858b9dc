"""Status changes for open directory pages: the "directory" group of the channel layer.

A room going live or offline is announced to every open directory page
(rooms.consumers.DirectoryConsumer), which then refetches its grid of live cards.
These events are rare (a few a minute on a busy site), so the channel layer's
group send serves them, unlike the room sockets' per-message fan-out (chat.hub).

`announce` is called by the services in rooms.services inside their transaction;
the event leaves only once it commits, and a channel layer that is down costs a
log line, never the status change itself.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from livesite.after_commit import after_commit
from rooms import events

log = logging.getLogger(__name__)

GROUP = "directory"


def announce(room) -> None:
    """Send `room.status` to every open directory page once the transaction commits."""
    event = events.room_status(room)
    after_commit(lambda: _send(event), "directory")


def _send(event: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(GROUP, event)
    except Exception:
        log.exception("could not announce %s of room %s to the directory", event, event["room"])
