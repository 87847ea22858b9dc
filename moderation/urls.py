from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("rooms/<slug:slug>/", views.room_rules, name="room_rules"),
    path("rooms/<slug:slug>/terms/", views.add_term, name="add_term"),
    path("rooms/<slug:slug>/terms/<int:term_id>/delete/", views.remove_term, name="remove_term"),
    path("rooms/<slug:slug>/rules/", views.update_rules, name="update_rules"),
    path("rooms/<slug:slug>/followers-only/", views.followers_only, name="followers_only"),
    path("rooms/<slug:slug>/restrictions/<int:user_id>/lift/", views.lift, name="lift"),
]
