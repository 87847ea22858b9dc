from xml.etree import ElementTree

from django.contrib.staticfiles import finders

from gifts import catalog
from gifts.catalog import DEMO_CATALOG
from gifts.models import Gift
from gifts.services import coins


def test_the_demo_catalog_is_seeded_once_and_keeps_admin_edits(db):
    catalog.seed_demo_catalog()
    Gift.objects.filter(slug="rose").update(price=7)
    catalog.seed_demo_catalog()
    assert Gift.objects.count() == len(DEMO_CATALOG)
    assert Gift.objects.get(slug="rose").price == 7


def test_the_demo_catalog_has_every_tier(db):
    tiers = {gift.tier for gift in catalog.seed_demo_catalog()}
    assert tiers == {"small", "medium", "large"}


def test_every_demo_gift_has_its_own_svg_artwork(db):
    for gift in catalog.seed_demo_catalog():
        path = finders.find(gift.artwork)
        assert path, gift.artwork
        with open(path) as artwork:
            text = artwork.read()
        root = ElementTree.fromstring(text)  # noqa: S314 -- our own files
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert "script" not in text.lower()


def test_demo_users_are_topped_up_to_their_coins_not_beyond(bob):
    assert coins.top_up_to(bob, 5000, "Demo coins") == 5000
    assert coins.top_up_to(bob, 5000, "Demo coins") == 0
    assert coins.wallet_of(bob).coins == 5000
