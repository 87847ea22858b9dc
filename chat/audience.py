"""Who watches a room from this process, and the presence frames its sockets get.

A join or leave changes this process's counters (O(1)); once a second the room hub
calls `refresh`, which writes the process's snapshot (realtime.presence, shared by
every process), reads the room's totals, and returns `presence.count` when it changed
and `presence.audience` every AUDIENCE_INTERVAL seconds when it changed. Join and
leave notices go out only in small rooms, and a few a second at most.
"""

from collections import Counter
from dataclasses import dataclass, field

from chat import conf, events
from realtime import presence
from realtime.fan_out import Viewer
from realtime.publish import encode

AUDIENCE_INTERVAL = 5.0
JOIN_NOTICES_PER_SECOND = 5


@dataclass(eq=False)
class RoomAudience:
    room_id: int
    anonymous: int = 0
    user_connections: Counter = field(default_factory=Counter)
    user_summaries: dict = field(default_factory=dict)
    dirty: bool = True  # changed since the last snapshot written
    last_heartbeat: float = 0.0
    count_frame: str = ""
    audience_frame: str = ""
    last_audience_at: float = 0.0
    viewers_total: int = 0  # in the room, on every process
    join_notices: int = 0  # this second

    def add(self, viewer: Viewer) -> None:
        if not viewer.counted:
            return
        if viewer.user is None:
            self.anonymous += 1
        else:
            self.user_connections[viewer.user_id] += 1
            self.user_summaries[viewer.user_id] = viewer.user
        self.dirty = True

    def remove(self, viewer: Viewer) -> bool:
        """Forget `viewer`; True when it was the user's last socket on this process."""
        if not viewer.counted:
            return False
        self.dirty = True
        if viewer.user is None:
            self.anonymous -= 1
            return False
        self.user_connections[viewer.user_id] -= 1
        if self.user_connections[viewer.user_id] > 0:
            return False
        del self.user_connections[viewer.user_id]
        self.user_summaries.pop(viewer.user_id, None)
        return True

    def should_announce(self) -> bool:
        """Join/leave notices only in small rooms, and a few a second at most."""
        if self.viewers_total > conf.join_notices_up_to():
            return False
        if self.join_notices >= JOIN_NOTICES_PER_SECOND:
            return False
        self.join_notices += 1
        return True

    def snapshot(self) -> presence.Snapshot:
        users = list(self.user_summaries.values())[: presence.AUDIENCE_LIST_LIMIT]
        return presence.Snapshot(self.anonymous, len(self.user_connections), users)

    async def refresh(self, now: float, process_id: str, has_sockets: bool) -> list[str]:
        """Write this process's snapshot when due, read the room's totals; the frames to
        send the room (`has_sockets`: any socket open here, counted or not)."""
        heartbeat_interval = presence.snapshot_ttl() / 3
        heartbeat = self.dirty or now - self.last_heartbeat >= heartbeat_interval
        if heartbeat:
            self.dirty = False
            self.last_heartbeat = now
            if has_sockets:
                await presence.write_snapshot(self.room_id, process_id, self.snapshot())
        audience = await presence.read_audience(self.room_id)
        if heartbeat or audience.viewers != self.viewers_total:
            # the total the directory's cards show (presence.viewer_counts)
            await presence.write_viewer_count(self.room_id, audience.viewers)
        self.viewers_total = audience.viewers
        frames = []
        count = encode(events.presence_count(audience.viewers, audience.logged_in))
        if count != self.count_frame:
            self.count_frame = count
            frames.append(count)
        if now - self.last_audience_at >= AUDIENCE_INTERVAL:
            self.last_audience_at = now
            frame = encode(events.presence_audience(audience.users, audience.anonymous))
            if frame != self.audience_frame:
                self.audience_frame = frame
                frames.append(frame)
        return frames
