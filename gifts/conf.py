"""The gifts app's settings, read in one place with their defaults.

`livesite/settings.py` reads each `GIFTS_*` setting from the environment and
holds its default (README, settings table); this module gives each the name the
rest of the app reads. Read them through these functions (not at import time)
so tests can override settings.
"""

from django.conf import settings


def quantities() -> tuple[int, ...]:
    """How many of one gift a single send may carry (the sender picks one)."""
    return tuple(settings.GIFTS_QUANTITIES)


def broadcaster_share_percent() -> int:
    """Diamonds a broadcaster earns per 100 coins spent on their gifts (rounded down per send)."""
    return int(settings.GIFTS_BROADCASTER_SHARE_PERCENT)


def catalog_cache_seconds() -> float:
    """How long a process may use the active catalog it read (an admin edit takes this long)."""
    return float(settings.GIFTS_CATALOG_CACHE_SECONDS)


def combo_window_seconds() -> float:
    """The same gift from the same sender within this many seconds continues a combo."""
    return float(settings.GIFTS_COMBO_WINDOW_SECONDS)


def earnings_slots() -> int:
    """Rows a broadcaster's diamond balance is spread over (see gifts.ledger on the hot row)."""
    return max(1, int(settings.GIFTS_EARNINGS_SLOTS))


def leaderboard_redis_url() -> str:
    """Redis holding the leaderboards; empty means computing them from the database."""
    return settings.GIFTS_LEADERBOARD_REDIS_URL


def leaderboard_key_prefix() -> str:
    """Prefix of the leaderboards' Redis keys; empty follows REDIS_KEY_PREFIX."""
    return settings.GIFTS_LEADERBOARD_KEY_PREFIX or f"{settings.REDIS_KEY_PREFIX}:gifts:lb"


def leaderboard_publish_interval() -> float:
    """At most one pair of leaderboard snapshots a room per this many seconds (gift frames
    carry the sender's totals in between)."""
    return float(settings.GIFTS_LEADERBOARD_PUBLISH_INTERVAL)


def leaderboard_room_size() -> int:
    """Entries in the leaderboard snapshot a room receives."""
    return int(settings.GIFTS_LEADERBOARD_ROOM_SIZE)


def leaderboard_reconcile_days() -> int:
    """How far back the periodic reconcile looks for boards that sends touched."""
    return int(settings.GIFTS_LEADERBOARD_RECONCILE_DAYS)


def stats_delay_seconds() -> int:
    """A stream's statistics are recomputed at most once per this many seconds while gifts flow."""
    return int(settings.GIFTS_STATS_DELAY_SECONDS)


def stats_sweep_minutes() -> int:
    """The periodic safety-net recomputation covers gifts from this many minutes back."""
    return int(settings.GIFTS_STATS_SWEEP_MINUTES)


def coin_packages() -> tuple[tuple[int, str], ...]:
    """What the buy-coins page offers: (coins, price as shown), e.g. (100, "0.99")."""
    return tuple(settings.GIFTS_COIN_PACKAGES)


def currency_symbol() -> str:
    return settings.GIFTS_PRICE_CURRENCY


def payment_provider_path() -> str:
    """Dotted path of the class that takes payments (gifts.payments.PaymentProvider)."""
    return settings.GIFTS_PAYMENT_PROVIDER


def max_grant() -> int:
    """The largest admin top-up in one go: a typo in admin should not mint a fortune."""
    return int(settings.GIFTS_MAX_GRANT)


def demo_payments() -> bool:
    """Whether this site is a demo that may sell coins through the placeholder provider."""
    return bool(settings.GIFTS_DEMO_PAYMENTS)


def demo_coins() -> int:
    """Coins a demo account starts with."""
    return int(settings.GIFTS_DEMO_COINS)


def send_threads() -> int:
    """Threads per web process for gift sends from the room socket (gifts/room_socket.py)."""
    return int(settings.GIFTS_SEND_THREADS)
