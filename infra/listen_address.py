"""Where a development server may listen.

With DEBUG on, a page error shows code and settings, and the placeholder payment
provider hands out coins, so a debug server must not face a network. Our own
servers (`manage.py serve`, `manage.py ingest`) ask this module before binding and
refuse anything but loopback unless DEBUG_ALLOW_PUBLIC_BIND says otherwise.
"""

import ipaddress

from django.conf import settings
from django.core.management.base import CommandError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name that may resolve anywhere: not provably loopback


def check_bind(host: str, what: str) -> None:
    """Raise CommandError if a DEBUG server is about to listen beyond this machine."""
    if not settings.DEBUG or settings.DEBUG_ALLOW_PUBLIC_BIND or is_loopback(host):
        return
    raise CommandError(
        f"Refusing to listen for {what} on {host!r} with DEBUG on: a debug server shows "
        "settings and code to anyone who reaches it. Listen on 127.0.0.1, set DEBUG=0, "
        "or set DEBUG_ALLOW_PUBLIC_BIND=1 if this network is yours alone."
    )


class LoopbackOnlyInDebug:
    """ASGI wrapper: with DEBUG on, answer only peers on this machine.

    `check_bind` covers our own commands; this also covers `daphne -b 0.0.0.0` or any
    other server started by hand with DEBUG left on. The direct peer decides (not
    X-Forwarded-For): a debug server behind a proxy is still a debug server.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in {"http", "websocket"} and not self._may_answer(scope):
            await self._refuse(scope, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _may_answer(scope) -> bool:
        if not settings.DEBUG or settings.DEBUG_ALLOW_PUBLIC_BIND:
            return True
        client = scope.get("client")
        return not client or is_loopback(str(client[0]))  # no peer: a unix socket

    @staticmethod
    async def _refuse(scope, send) -> None:
        if scope["type"] == "websocket":
            # Closed before accept: the handshake is refused with HTTP 403.
            await send({"type": "websocket.close"})
            return
        body = b"This is a development server (DEBUG on): it answers this machine only.\n"
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
