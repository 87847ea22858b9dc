"""WebSocket routes of the chat app (the room socket at /ws/rooms/<slug>/)."""

websocket_urlpatterns: list = []
