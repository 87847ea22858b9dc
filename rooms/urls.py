from django.urls import path

from rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("rooms/new/", views.create_room, name="create"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
    path("rooms/<slug:slug>/follow/", views.follow, name="follow"),
    path("rooms/<slug:slug>/manage/", views.manage_room, name="manage"),
    path("rooms/<slug:slug>/go-live/", views.go_live, name="go_live"),
    path("rooms/<slug:slug>/stop/", views.stop_room, name="stop"),
    path("rooms/<slug:slug>/start/", views.start_room, name="start"),
    path("rooms/<slug:slug>/replays/<int:stream_id>/", views.replay_page, name="replay"),
    path("rooms/<slug:slug>/stream-key/", views.rotate_stream_key, name="stream_key"),
    path("rooms/<slug:slug>/moderators/", views.add_moderator, name="add_moderator"),
    path(
        "rooms/<slug:slug>/moderators/<int:user_id>/remove/",
        views.remove_moderator,
        name="remove_moderator",
    ),
]
