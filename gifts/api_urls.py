"""REST routes of the gifts app, mounted at /api/."""

from django.urls import path

from gifts import api

urlpatterns = [
    path("gifts/", api.CatalogView.as_view(), name="api-gifts"),
    path("wallet/", api.WalletView.as_view(), name="api-wallet"),
    path("wallet/history/", api.WalletHistoryView.as_view(), name="api-wallet-history"),
    path("rooms/<slug:slug>/gifts/", api.SendGiftView.as_view(), name="api-send-gift"),
    path(
        "rooms/<slug:slug>/leaderboards/",
        api.RoomLeaderboardsView.as_view(),
        name="api-room-leaderboards",
    ),
    path(
        "leaderboards/<str:kind>/<str:ident>/",
        api.LeaderboardView.as_view(),
        name="api-leaderboard",
    ),
]
