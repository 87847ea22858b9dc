"""WebSocket routes of the rooms app: the directory socket."""

from django.urls import path

from rooms.consumers import DirectoryConsumer

websocket_urlpatterns = [path("ws/directory/", DirectoryConsumer.as_asgi())]
