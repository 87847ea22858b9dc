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
