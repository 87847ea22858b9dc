"""Headless Chromium for end-to-end tests: Debian's chromium driven by Playwright.

Playwright's own browser download cannot run here (and should not in CI), so
tests launch the system Chromium with the flags that work as root in a closed
network (scripts/setup.sh installs it).
"""

import shutil
from contextlib import contextmanager

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("Chromium is not installed: run scripts/setup.sh as root")


# A fake camera (a moving test pattern with a beep) and no permission prompt: a
# broadcaster on the go-live page.
FAKE_MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@contextmanager
def chromium(extra_args: list[str] | None = None):
    """A headless Chromium (Playwright Browser); each `new_page()` is a separate visitor."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS + (extra_args or [])
        )
        try:
            yield browser
        finally:
            browser.close()


def log_in(page, base_url: str, username: str, password: str) -> None:
    response = page.goto(f"{base_url}/accounts/login/")
    if response is None or not response.ok:
        status = response.status if response else "no response"
        raise AssertionError(f"log-in page answered {status}: {page.content()[:500]}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/accounts/dashboard/")
