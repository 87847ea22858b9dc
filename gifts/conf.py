"""The gifts app's settings, read in one place with their defaults.

`livesite/settings.py` parses them from the environment; this module only
gives each a default and a name the rest of the app reads, so a missing
setting never breaks a laptop install. Read them through these functions
(not at import time) so tests can override settings.
"""

from django.conf import settings


def quantities() -> tuple[int, ...]:
    """How many of one gift a single send may carry (the sender picks one)."""
    return tuple(getattr(settings, "GIFTS_QUANTITIES", (1, 10, 99)))


def broadcaster_share_percent() -> int:
    """Diamonds a broadcaster earns per 100 coins spent on their gifts (rounded down per send)."""
    return int(getattr(settings, "GIFTS_BROADCASTER_SHARE_PERCENT", 50))


def catalog_cache_seconds() -> float:
    """How long a process may use the active catalog it read (an admin edit takes this long)."""
    return float(getattr(settings, "GIFTS_CATALOG_CACHE_SECONDS", 5))


def combo_window_seconds() -> float:
    """The same gift from the same sender within this many seconds continues a combo."""
    return float(getattr(settings, "GIFTS_COMBO_WINDOW_SECONDS", 5))


def earnings_slots() -> int:
    """Rows a broadcaster's diamond balance is spread over (see gifts.ledger on the hot row)."""
    return max(1, int(getattr(settings, "GIFTS_EARNINGS_SLOTS", 16)))


def leaderboard_redis_url() -> str:
    """Redis holding the leaderboards; empty means computing them from the database."""
    return getattr(settings, "GIFTS_LEADERBOARD_REDIS_URL", settings.REDIS_URL)


def leaderboard_key_prefix() -> str:
    default = f"{getattr(settings, 'REDIS_KEY_PREFIX', 'livesite')}:gifts:lb"
    return getattr(settings, "GIFTS_LEADERBOARD_KEY_PREFIX", default)


def leaderboard_publish_interval() -> float:
    """At most one pair of leaderboard snapshots a room per this many seconds (gift frames
    carry the sender's totals in between)."""
    return float(getattr(settings, "GIFTS_LEADERBOARD_PUBLISH_INTERVAL", 2.0))


def leaderboard_room_size() -> int:
    """Entries in the leaderboard snapshot a room receives."""
    return int(getattr(settings, "GIFTS_LEADERBOARD_ROOM_SIZE", 10))


def leaderboard_reconcile_days() -> int:
    """How far back the periodic reconcile looks for boards that sends touched."""
    return int(getattr(settings, "GIFTS_LEADERBOARD_RECONCILE_DAYS", 8))


def stats_delay_seconds() -> int:
    """A stream's statistics are recomputed at most once per this many seconds while gifts flow."""
    return int(getattr(settings, "GIFTS_STATS_DELAY_SECONDS", 30))


def stats_sweep_minutes() -> int:
    """The periodic safety-net recomputation covers gifts from this many minutes back."""
    return int(getattr(settings, "GIFTS_STATS_SWEEP_MINUTES", 120))


def coin_packages() -> tuple[tuple[int, str], ...]:
    """What the buy-coins page offers: (coins, price as shown), e.g. (100, "0.99")."""
    return tuple(
        getattr(
            settings,
            "GIFTS_COIN_PACKAGES",
            ((70, "0.99"), (350, "4.99"), (1400, "19.99"), (7000, "99.99")),
        )
    )


def currency_symbol() -> str:
    return getattr(settings, "GIFTS_PRICE_CURRENCY", "USD")


def payment_provider_path() -> str:
    """Dotted path of the class that takes payments (gifts.payments.PaymentProvider)."""
    return getattr(settings, "GIFTS_PAYMENT_PROVIDER", "gifts.payments.PlaceholderPaymentProvider")


def max_grant() -> int:
    """The largest admin top-up in one go: a typo in admin should not mint a fortune."""
    return int(getattr(settings, "GIFTS_MAX_GRANT", 1_000_000))


def demo_payments() -> bool:
    """Whether this site is a demo that may sell coins through the placeholder provider."""
    return bool(getattr(settings, "GIFTS_DEMO_PAYMENTS", settings.DEBUG))


def demo_coins() -> int:
    """Coins a demo account starts with."""
    return int(getattr(settings, "GIFTS_DEMO_COINS", 5000))
