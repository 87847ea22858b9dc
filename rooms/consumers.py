"""The directory socket, /ws/directory/: tells an open directory page a room's status changed.

The socket only listens: it joins the channel layer's "directory" group
(rooms.directory_feed) and forwards each `room.status` event as it is
(docs/protocol.md); the page then refetches its live cards. Frames from the
browser are ignored.

Every page opens it for a signed-in user, whose socket also joins their personal
group: frames other apps send them (`personal.frame`, e.g. the header bell's
`notifications.unread`) are forwarded as they are.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from rooms import directory_feed
from rooms.directory_feed import GROUP, user_group


class DirectoryConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]  # Channels joins them on connect and leaves them on disconnect

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            personal = user_group(user.pk)
            await self.channel_layer.group_add(personal, self.channel_name)
            self.groups = [*self.groups, personal]  # left again on disconnect
            await directory_feed.page_opened(user.pk)
            self.counted_user = user.pk
        await self.accept()

    async def disconnect(self, code) -> None:
        user_id = getattr(self, "counted_user", None)
        if user_id is not None:
            await directory_feed.page_closed(user_id)

    async def room_status(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event, separators=(",", ":")))

    async def personal_frame(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event["frame"], separators=(",", ":")))
