"""Issue #6 end to end: a gift sent from one Chromium page animates in a second one, and the
second page's "Gifters" boards update without a reload.

A real daphne serves the pages and the room socket; bob sends through the gift tray, carol
(another signed-in viewer) has the room open before the send.
"""

import re

import pytest

from gifts.catalog import seed_demo_catalog
from gifts.services import coins
from rooms import services as rooms
from tests.support.browser import chromium, log_in
from tests.support.servers import daphne_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 10_000
COINS = 10_000
GIFT_NAME, QUANTITY = "Golden Mic", 10  # a medium gift: a corner toast that lasts 5 s


@pytest.fixture
def fast_password_hashing():
    """Keep the default hashers: daphne checks the passwords with its own settings."""


def digits(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def board_rows(page, board: str) -> list[tuple[str, str]]:
    rows = page.eval_on_selector_all(
        f"[data-board={board}] li",
        "items => items.map(li => [li.querySelector('span')?.textContent ?? li.textContent,"
        " li.querySelector('strong')?.textContent ?? ''])",
    )
    return [tuple(row) for row in rows]


def test_a_gift_animates_and_updates_the_gifters_board_in_another_page(
    alice_room, bob, carol, password
):
    gift = next(g for g in seed_demo_catalog() if g.name == GIFT_NAME)
    coins.grant_coins(bob, COINS, "test coins")
    rooms.start_stream(alice_room)
    spent = gift.price * QUANTITY

    with daphne_server() as server, chromium() as browser:
        sender, watcher = browser.new_page(), browser.new_page()
        errors = []
        for page in (sender, watcher):
            page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(sender, server.url, "bob", password)
        log_in(watcher, server.url, "carol", password)
        room_url = f"{server.url}/rooms/{alice_room.slug}/"
        watcher.goto(room_url)
        sender.goto(room_url)
        for page in (sender, watcher):
            # Both sockets joined the room, and the gift module is mounted (it fills the
            # tray only once its handlers' module has loaded).
            page.wait_for_function(
                "() => document.querySelector('[data-viewer-count]').textContent === '2'",
                timeout=WAIT_MS,
            )
            page.wait_for_selector(".gift-choice", state="attached", timeout=WAIT_MS)

        # The watcher looks at the Gifters tab before the send: nobody has gifted yet.
        watcher.click("[data-tab=gifters]")
        watcher.wait_for_selector("[data-board=stream]", state="visible", timeout=WAIT_MS)
        for board in ("stream", "broadcaster"):
            assert board_rows(watcher, board) == [("No gifts yet. Be the first!", "")]
        assert watcher.query_selector(".gift-layer .gift-toast") is None
        watcher.evaluate("window.notReloaded = true")

        sender.click("[data-gift-toggle]")
        sender.wait_for_selector("[data-gift-tray]", state="visible", timeout=WAIT_MS)
        assert digits(sender.inner_text("[data-coin-balance]")) == COINS
        sender.select_option("[data-gift-quantity]", str(QUANTITY))
        sender.click(f".gift-choice:has-text('{GIFT_NAME}')")

        # Page 1: the receipt came back and the balance dropped by the price.
        sender.wait_for_selector(
            f"[data-gift-status]:has-text('Sent {GIFT_NAME} x{QUANTITY}')", timeout=WAIT_MS
        )
        sender.wait_for_function(
            "expected => document.querySelector('[data-coin-balance]')"
            ".textContent.replace(/\\D/g, '') === expected",
            arg=str(COINS - spent),
            timeout=WAIT_MS,
        )

        # Page 2: the animation names bob and the gift, with the quantity.
        toast = watcher.wait_for_selector(
            "[data-player] .gift-layer .gift-corner .gift-toast", timeout=WAIT_MS
        )
        assert toast.query_selector(".gift-sender").inner_text() == "bob"
        assert toast.query_selector(".gift-name").inner_text() == f"sent {GIFT_NAME}"
        assert toast.query_selector(".gift-combo").inner_text() == f"x{QUANTITY}"
        assert (
            toast.query_selector("img.gift-image").get_attribute("src").endswith("microphone.svg")
        )

        # Page 2: both boards rank bob first with the coins he spent, without a reload.
        for board in ("stream", "broadcaster"):
            watcher.wait_for_function(
                "board => document.querySelector(`[data-board=${board}] li span`)"
                "?.textContent === '1. bob'",
                arg=board,
                timeout=WAIT_MS,
            )
            ((name, score),) = board_rows(watcher, board)
            assert (name, digits(score)) == ("1. bob", spent), board
        assert watcher.evaluate("window.notReloaded") is True
        assert errors == []


def test_the_boards_stay_exact_between_throttled_leaderboard_frames(
    alice_room, bob, carol, password
):
    """A room gets at most one `leaderboard` frame per interval; the `gift` frames carry the
    sender's totals in between, and the page must show them."""
    catalog = {g.slug: g for g in seed_demo_catalog()}
    coins.grant_coins(bob, COINS, "test coins")
    rooms.start_stream(alice_room)
    sends = [("Golden Mic", catalog["microphone"].price), ("Rose", catalog["rose"].price)]

    # A long interval: the second send surely falls in the first one's window.
    with (
        daphne_server({"GIFTS_LEADERBOARD_PUBLISH_INTERVAL": "60"}) as server,
        chromium() as browser,
    ):
        sender, watcher = browser.new_page(), browser.new_page()
        log_in(sender, server.url, "bob", password)
        log_in(watcher, server.url, "carol", password)
        room_url = f"{server.url}/rooms/{alice_room.slug}/"
        watcher.goto(room_url)
        sender.goto(room_url)
        for page in (sender, watcher):
            page.wait_for_function(
                "() => document.querySelector('[data-viewer-count]').textContent === '2'",
                timeout=WAIT_MS,
            )
            page.wait_for_selector(".gift-choice", state="attached", timeout=WAIT_MS)
        watcher.click("[data-tab=gifters]")
        sender.click("[data-gift-toggle]")

        spent = 0
        for name, price in sends:
            sender.click(f".gift-choice:has-text('{name}')")
            sender.wait_for_selector(
                f"[data-gift-status]:has-text('Sent {name} x1')", timeout=WAIT_MS
            )
            spent += price
            watcher.wait_for_selector(
                f".gift-toast:has(.gift-name:text-is('sent {name}'))", timeout=WAIT_MS
            )

        for board in ("stream", "broadcaster"):
            watcher.wait_for_function(
                "([board, spent]) => {"
                "  const score = document.querySelector(`[data-board=${board}] li strong`);"
                "  return score && score.textContent.replace(/\\D/g, '') === String(spent);"
                "}",
                arg=[board, spent],
                timeout=WAIT_MS,
            )
            assert board_rows(watcher, board) == [("1. bob", f"{spent:,}")], board
