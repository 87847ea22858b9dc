"""The gift catalog: looking gifts up, the data a room page needs, and the demo catalog.

The demo catalog's artwork is original SVG drawn for Livesite, under
`gifts/static/gifts/art/`.
"""

import time

from gifts import conf
from gifts.errors import UnknownGift
from gifts.models import Gift

Tier = Gift.Tier
Animation = Gift.Animation

# slug, name, price in coins, tier, animation
DEMO_CATALOG = [
    ("heart", "Heart", 2, Tier.SMALL, Animation.POP),
    ("rose", "Rose", 5, Tier.SMALL, Animation.FLOAT),
    ("ice-cream", "Ice Cream", 10, Tier.SMALL, Animation.BOUNCE),
    ("donut", "Donut", 30, Tier.SMALL, Animation.SPIN),
    ("microphone", "Golden Mic", 199, Tier.MEDIUM, Animation.BOUNCE),
    ("crown", "Crown", 499, Tier.MEDIUM, Animation.FLOAT),
    ("rocket", "Rocket", 1999, Tier.LARGE, Animation.FLY),
    ("fireworks", "Fireworks", 4999, Tier.LARGE, Animation.SHOWER),
    ("galaxy", "Galaxy", 9999, Tier.LARGE, Animation.SPIN),
]


def catalog_entry(gift: Gift) -> dict:
    """A gift as clients see it: the room page, the REST catalog, the `gift` event."""
    return {
        "id": gift.pk,
        "slug": gift.slug,
        "name": gift.name,
        "price": gift.price,
        "tier": gift.tier,
        "animation": gift.animation,
        "image": gift.image_url,
    }


def active_gifts():
    return Gift.objects.filter(is_active=True)


def room_catalog() -> dict:
    """What the room page's gift picker needs (pass it to the page with json_script)."""
    return {
        "gifts": [catalog_entry(gift) for gift in active_gifts()],
        "quantities": list(conf.quantities()),
    }


def find_active_gift(gift_id_or_slug) -> Gift:
    """The active gift with this id (int or digits) or slug, or UnknownGift."""
    if isinstance(gift_id_or_slug, Gift):
        gift_id_or_slug = gift_id_or_slug.pk
    if isinstance(gift_id_or_slug, bool) or not isinstance(gift_id_or_slug, int | str):
        raise UnknownGift()
    gift = _active_by_slug_and_id().get(str(gift_id_or_slug).strip())
    if gift is None:
        raise UnknownGift()
    return gift


# Every send looks its gift up; the catalog changes a few times a year. Each
# process keeps the active catalog for GIFTS_CATALOG_CACHE_SECONDS, and forgets
# it at once when a gift is saved in this process (gifts.apps connects that), so
# an admin's change reaches the other processes within those seconds.
_cached: tuple[float, dict[str, Gift]] | None = None


def _active_by_slug_and_id() -> dict[str, Gift]:
    global _cached
    now = time.monotonic()
    if _cached is None or _cached[0] <= now:
        gifts = list(active_gifts())
        lookup = {gift.slug: gift for gift in gifts} | {str(gift.pk): gift for gift in gifts}
        _cached = (now + conf.catalog_cache_seconds(), lookup)
    return _cached[1]


def forget_cached_catalog(**kwargs) -> None:
    global _cached
    _cached = None


def seed_demo_catalog() -> list[Gift]:
    """Create the demo gifts that are missing (gifts edited in admin are left as they are)."""
    gifts = []
    for order, (slug, name, price, tier, animation) in enumerate(DEMO_CATALOG):
        gift, _ = Gift.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "price": price,
                "tier": tier,
                "animation": animation,
                "artwork": f"gifts/art/{slug}.svg",
                "sort_order": order * 10,
            },
        )
        gifts.append(gift)
    return gifts
