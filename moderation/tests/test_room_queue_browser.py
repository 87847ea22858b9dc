"""In real Chromium: a held message appears in the room's queue beside the chat without a
reload, and one click approves it."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from chat.ids import next_message_id
from chat.models import ChatMessage
from conftest import need_service
from moderation import services
from moderation.models import ReviewItem
from tests.support.browser import chromium
from tests.support.servers import daphne_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def hold_in_a_thread(room, user, text: str) -> ReviewItem:
    """Playwright runs an event loop in the test's thread: the ORM goes elsewhere."""

    def hold():
        try:
            message = ChatMessage.objects.create(
                id=next_message_id(), room=room, user=user, text=text,
                created_at=timezone.now(), deleted_at=timezone.now(),
            )  # fmt: skip
            reasons = [{"code": "blocked_term", "action": "hold", "message": "held", "spans": []}]
            return services.hold_message(message.pk, room.pk, user.pk, reasons)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(hold).result()


def item_state(pk: int) -> tuple[str, int | None]:
    def read():
        try:
            item = ReviewItem.objects.get(pk=pk)
            return item.state, item.resolved_by_id
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(read).result()


def test_a_held_message_reaches_the_open_queue_and_is_approved(client, alice_room, carol, bob):
    need_service(
        "Redis (REDIS_URL)",
        bool(settings.REDIS_URL),
        "the queue's frame crosses from this process to the server's channel layer",
    )
    client.force_login(carol)  # the server shares the session store (Redis and database)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with daphne_server() as server, chromium() as browser:
        context = browser.new_context()
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
        )
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.url}{alice_room.get_absolute_url()}")
        page.wait_for_function(
            # An arrow function: the page's CSP forbids the eval a bare expression needs.
            "() => document.querySelector('[data-mod-queue-count]').textContent === '0'",
            timeout=10_000,
        )
        time.sleep(0.5)  # the queue's directory socket joins carol's group

        item = hold_in_a_thread(alice_room, bob, "queue me please")

        row = page.wait_for_selector(
            f"[data-mod-queue-list] [data-item-id='{item.pk}']", timeout=10_000
        )
        assert "queue me please" in row.inner_text() and "bob" in row.inner_text()
        assert page.inner_text("[data-mod-queue-count]") == "1"
        row.query_selector("button[data-decision=approve]").click()
        page.wait_for_selector(f"[data-item-id='{item.pk}']", state="detached", timeout=10_000)
        assert item_state(item.pk) == (ReviewItem.State.RESOLVED, carol.pk)
        assert not errors
