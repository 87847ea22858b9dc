"""Every app's REST endpoints under /api/."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("rooms.api_urls")),
    path("", include("gifts.api_urls")),
    path("", include("chat.api_urls")),
    path("", include("moderation.api_urls")),
    path("", include("discovery.api_urls")),
]
