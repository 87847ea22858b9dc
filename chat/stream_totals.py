"""The live stream's likes and peak viewers, as a room hub on this process sees them.

Likes (the `like` frame's hearts) are summed per room and added to `Stream.likes`
with one UPDATE a flush (the hub flushes four times a second), then broadcast as
`likes {total, delta}`. The peak is written when the room's total passes the last
one recorded here, at most every PEAK_INTERVAL seconds.
"""

from dataclasses import dataclass

from channels.db import database_sync_to_async

from chat import events
from realtime.publish import apublish
from rooms import services as rooms

PEAK_INTERVAL = 10.0


@dataclass(eq=False)
class StreamTotals:
    likes_pending: int = 0
    recorded_peak: int = 0
    last_peak_at: float = 0.0

    async def record_peak(self, stream_id: int | None, viewers: int, now: float) -> None:
        if (
            stream_id
            and viewers > self.recorded_peak
            and (now - self.last_peak_at >= PEAK_INTERVAL)
        ):
            self.last_peak_at = now
            self.recorded_peak = viewers
            await database_sync_to_async(rooms.record_viewers)(stream_id, viewers)

    async def flush_likes(self, room_id: int, stream_id: int | None) -> None:
        if not self.likes_pending or not stream_id:
            self.likes_pending = 0
            return
        delta, self.likes_pending = self.likes_pending, 0
        total = await database_sync_to_async(rooms.add_likes)(stream_id, delta)
        await apublish(room_id, events.likes(total, delta))
