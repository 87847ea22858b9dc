from django.urls import path

from rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("rooms/new/", views.create_room, name="create"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
]
