"""Content-Security-Policy: scripts only from our own files, and pages that live with it."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATE_DIRS = [settings.BASE_DIR / "templates", *settings.BASE_DIR.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def policy_of(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_pages_forbid_inline_and_foreign_scripts(client, alice_room):
    policy = policy_of(client.get(reverse("rooms:room", args=[alice_room.slug])))
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_no_template_carries_inline_script_handlers_or_styles():
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE):
                offenders += [f"{path}: {match}" for match in pattern.findall(text)]
    assert offenders == []


COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_room_and_other_pages_run_with_no_policy_violations(alice_room, carol, password):
    from gifts import catalog
    from rooms import services as rooms
    from tests.support.browser import chromium, log_in
    from tests.support.servers import daphne_server

    catalog.seed_demo_catalog()
    rooms.start_stream(alice_room)
    pages = [
        f"/rooms/{alice_room.slug}/",
        "/",
        "/accounts/dashboard/",
        f"/rooms/{alice_room.slug}/manage/",
        "/gifts/",
        "/gifts/earnings/",
        "/api/docs/",
        "/admin/login/",
    ]
    with daphne_server() as server, chromium() as browser:
        page = browser.new_page()
        page.add_init_script(COLLECT_VIOLATIONS)
        console = []
        page.on("console", lambda message: console.append(message.text))
        log_in(page, server.url, "alice", password)
        for path in pages:
            response = page.goto(server.url + path)
            assert response.ok, f"{path}: {response.status}"
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            if path.startswith("/rooms/") and path.count("/") == 3:
                page.wait_for_function(
                    "() => document.querySelector('[data-viewer-count]').textContent !== '0'"
                )
            violations = page.evaluate("window.__cspViolations")
            blocked = [text for text in console if "Content Security Policy" in text]
            assert violations == [] and blocked == [], f"{path}: {violations} {blocked}"
