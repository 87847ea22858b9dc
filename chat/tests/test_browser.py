"""Two viewers in real Chromium pages: one chats, the other sees it; counts agree; no XSS."""

import pytest

from tests.support.browser import chromium, log_in
from tests.support.servers import daphne_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><b>bold?</b>"


def test_a_message_typed_in_one_page_shows_in_the_other_as_text(alice_room, bob, carol, password):
    with daphne_server() as server, chromium() as browser:
        base_url = server.url
        sender, watcher = browser.new_page(), browser.new_page()
        dialogs = []
        watcher.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
        log_in(sender, base_url, "bob", password)
        log_in(watcher, base_url, "carol", password)
        room_url = f"{base_url}/rooms/{alice_room.slug}/"
        watcher.goto(room_url)
        sender.goto(room_url)

        for page in (sender, watcher):
            page.wait_for_function(
                "() => document.querySelector('[data-viewer-count]').textContent === '2'"
            )

        sender.fill("input[name=text]", "hello from bob 👋")
        sender.press("input[name=text]", "Enter")
        watcher.wait_for_selector(".chat-message:has-text('hello from bob 👋')", timeout=10_000)

        sender.fill("input[name=text]", HOSTILE)
        sender.press("input[name=text]", "Enter")
        shown = watcher.wait_for_selector(".chat-message:has-text('bold?')", timeout=10_000)
        assert shown.query_selector(".chat-text").inner_text() == HOSTILE
        assert watcher.query_selector(".chat-list img") is None
        assert watcher.query_selector(".chat-list b") is None
        assert watcher.title() != "pwned" and not dialogs

        counts = [p.inner_text("[data-viewer-count]") for p in (sender, watcher)]
        assert counts == ["2", "2"]


def test_hearts_float_and_the_total_reaches_the_other_page(alice_room, bob, carol, password):
    from rooms import services as rooms

    rooms.start_stream(alice_room)
    with daphne_server() as server, chromium() as browser:
        base_url = server.url
        tapper, watcher = browser.new_page(), browser.new_page()
        log_in(tapper, base_url, "bob", password)
        room_url = f"{base_url}/rooms/{alice_room.slug}/"
        watcher.goto(room_url)
        tapper.goto(room_url)
        tapper.wait_for_function(
            "() => document.querySelector('[data-viewer-count]').textContent === '2'"
        )
        for _ in range(3):
            tapper.click("[data-heart-button]")
        assert tapper.query_selector(".floating-heart") is not None
        watcher.wait_for_function(
            "() => document.querySelector('[data-likes-total]').textContent === '3'", timeout=10_000
        )


def test_the_room_page_runs_without_script_errors_for_every_role(alice_room, bob, carol, password):
    from gifts import catalog
    from gifts.services import coins
    from rooms import services as rooms

    catalog.seed_demo_catalog()
    coins.grant_coins(bob, 100, "test")
    rooms.start_stream(alice_room)
    with daphne_server() as server, chromium() as browser:
        for username in (None, "bob", "carol"):
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            if username:
                log_in(page, server.url, username, password)
            page.goto(f"{server.url}/rooms/{alice_room.slug}/")
            page.wait_for_function(
                "() => document.querySelector('[data-viewer-count]').textContent !== '0'"
            )
            page.click("[data-gift-toggle]")
            assert page.query_selector_all(".gift-choice"), "the gift tray lists the catalog"
            if username == "carol":
                page.wait_for_selector("[data-moderation-tools]")
            if username == "bob":
                page.click(".gift-choice >> nth=0")
                page.wait_for_selector("[data-gift-status]:has-text('Sent')", timeout=10_000)
                page.wait_for_selector(".gift-layer", timeout=10_000)  # the animation ran
            assert errors == [], f"{username}: {errors}"
            page.close()


def test_a_viewer_reports_a_message_from_the_room_page(alice_room, bob, carol, password):
    from moderation.models import Report

    with daphne_server() as server, chromium() as browser:
        author, reporter = browser.new_page(), browser.new_page()
        log_in(author, server.url, "carol", password)
        log_in(reporter, server.url, "bob", password)
        room_url = f"{server.url}/rooms/{alice_room.slug}/"
        reporter.goto(room_url)
        author.goto(room_url)
        author.wait_for_function(
            "() => document.querySelector('[data-viewer-count]').textContent === '2'"
        )
        author.fill("input[name=text]", "buy followers at spam.example")
        author.press("input[name=text]", "Enter")
        message = reporter.wait_for_selector(".chat-message:has-text('buy followers')")
        message.hover()
        message.query_selector("[data-report=message]").click()
        reporter.select_option("select[name=reason]", "spam")
        reporter.click("[data-report-dialog] button[type=submit]")
        reporter.wait_for_selector("[data-report-status]:has-text('Thanks')")
    report = Report.objects.get()
    assert (report.reporter_id, report.reason) == (bob.pk, "spam")
