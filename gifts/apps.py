from django.apps import AppConfig


class GiftsConfig(AppConfig):
    """Gift catalog, wallets and ledger, sending, combos, leaderboards, statistics."""

    name = "gifts"
    verbose_name = "Gifts"
