"""URL routes of the gifts app pages, mounted at /gifts/."""

from django.urls import path

from gifts import views

app_name = "gifts"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("wallet/", views.wallet, name="wallet"),
    path("coins/", views.buy_coins_page, name="buy_coins"),
    path("coins/buy/", views.buy_coins, name="buy"),
    path("earnings/", views.earnings, name="earnings"),
    path("earnings.csv", views.earnings_csv, name="earnings_csv"),
]
