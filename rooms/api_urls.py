from django.urls import path

from rooms import api

urlpatterns = [
    path("rooms/", api.RoomListView.as_view(), name="api-rooms"),
    path("rooms/<slug:slug>/", api.RoomDetailView.as_view(), name="api-room"),
    path("rooms/<slug:slug>/stream-key/", api.StreamKeyView.as_view(), name="api-stream-key"),
    path("rooms/<slug:slug>/stop/", api.RoomStopView.as_view(), name="api-room-stop"),
    path("rooms/<slug:slug>/start/", api.RoomStartView.as_view(), name="api-room-start"),
]
