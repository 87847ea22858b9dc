from django.urls import path

from clips import views

app_name = "clips"

urlpatterns = [
    path("clips/<str:public_id>/", views.clip_page, name="clip"),
    path("clips/<str:public_id>/delete/", views.delete_clip, name="delete"),
    path("rooms/<slug:slug>/clip/", views.make_clip, name="make"),
    path("rooms/<slug:slug>/clips-allowed/", views.clips_allowed, name="allowed"),
]
