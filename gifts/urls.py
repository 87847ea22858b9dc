"""URL routes of the gifts app (wallet, buy coins, earnings; filled with the gifts feature)."""

urlpatterns: list = []
app_name = "gifts"
