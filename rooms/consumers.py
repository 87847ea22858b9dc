"""The directory socket, /ws/directory/: tells an open directory page a room's status changed.

The socket only listens: it joins the channel layer's "directory" group
(rooms.directory_feed) and forwards each `room.status` event as it is
(docs/protocol.md); the page then refetches its live cards. Frames from the
browser are ignored.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from rooms.directory_feed import GROUP


class DirectoryConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]  # Channels joins them on connect and leaves them on disconnect

    async def room_status(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event, separators=(",", ":")))
