"""The gift animations and the earnings chart in a real browser (headless Chromium).

The room page and its socket are the chat app's; here the catalog page's
previews drive the same `showGift` the room page uses.
"""

import shutil

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import need_service
from gifts import stats
from gifts.services import sending
from gifts.tests.conftest import new_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    need_service("Chromium", bool(CHROMIUM))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_small_gifts_combo_in_the_corner_and_large_ones_take_over(live_server, catalog, browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + reverse("gifts:catalog"))

    for _ in range(3):
        page.click("[data-preview-gift=rose]")
    toast = page.locator(".gift-corner .gift-toast")
    assert toast.count() == 1
    assert toast.locator(".gift-combo").inner_text() == "x3"
    assert "sent Rose" in toast.inner_text()

    page.click("[data-preview-gift=rocket]")
    takeover = page.locator(".gift-takeover")
    takeover.wait_for(state="visible", timeout=2000)
    box, stage = takeover.bounding_box(), page.locator("[data-gift-stage]").bounding_box()
    assert (box["width"], box["height"]) == (stage["width"], stage["height"])
    assert errors == []


@pytest.fixture
def earning_alice(alice, rich_bob, live_room, catalog):
    # Before the browser starts: Playwright's event loop forbids the ORM in this thread.
    sending.send_gift(rich_bob, live_room, "crown", 10, new_key())
    stats.recompute_day(alice.pk, timezone.localdate(live_room.current_stream.started_at))
    return alice


def test_the_earnings_chart_draws(live_server, earning_alice, browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + reverse("accounts:login"))
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(live_server.url + reverse("gifts:earnings"))
    page.locator(".earnings-chart canvas").wait_for(timeout=5000)
    assert "Coins of gifts" in page.locator(".earnings-chart").inner_text()
    assert errors == []
