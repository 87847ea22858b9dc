from django.urls import path
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("token/", api.TokenView.as_view(), name="api-token"),
    path("token/refresh/", TokenRefreshView.as_view(), name="api-token-refresh"),
]
