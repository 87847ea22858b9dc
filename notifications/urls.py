from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("email/", views.email_choice, name="email"),
    path("rooms/<slug:slug>/", views.room_choice, name="room"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
