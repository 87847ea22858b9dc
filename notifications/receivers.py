"""What the notifications app does when other apps' signals fire (connected in apps.py)."""

from notifications import tasks
from rooms import services as rooms


def room_went_live(sender, room, stream, **kwargs) -> None:
    # Only one indexed query and a queued task here: the ingest is waiting for
    # start_stream to return. Most rooms going live have nobody to tell.
    if rooms.has_notified_followers(room.pk):
        tasks.plan_go_live.delay(stream.pk)
