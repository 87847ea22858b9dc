from django.urls import path, re_path

from rooms import api

urlpatterns = [
    path("rooms/", api.RoomListView.as_view(), name="api-rooms"),
    path("rooms/<slug:slug>/", api.RoomDetailView.as_view(), name="api-room"),
    path("rooms/<slug:slug>/stream-key/", api.StreamKeyView.as_view(), name="api-stream-key"),
    re_path(
        r"^rooms/(?P<slug>[-a-zA-Z0-9_]+)/(?P<action>stop|start)/$",
        api.RoomSwitchView.as_view(),
        name="api-room-switch",
    ),
]
