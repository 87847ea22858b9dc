"""Which address a request or a WebSocket really comes from.

Every per-address limit (log-in and sign-up throttling, the REST API's
anonymous throttle, anything on a socket) asks this module, so one rule holds
everywhere: `X-Forwarded-For` is believed only when the peer that handed us
the request is one of our own proxies (`TRUSTED_PROXIES`, CIDRs). Then the
header is read from the right: each trusted hop is skipped, and the first
address that is not one of ours is the client. Anything to its left was
written by the client and may be forged.

Hand-written because Django has no trusted-proxy rule of its own, daphne's
`--proxy-headers` believes the header from any peer, and DRF's `NUM_PROXIES`
counts hops instead of checking who they are.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

UNKNOWN = "unknown"


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _parse(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted_proxy(address: str) -> bool:
    parsed = _parse(address)
    return parsed is not None and _is_trusted(parsed)


def _is_trusted(parsed) -> bool:
    if getattr(parsed, "ipv4_mapped", None):
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def resolve(peer: str, forwarded_for: str = "") -> str:
    """The client's address, given the direct peer and the X-Forwarded-For header (if any)."""
    peer_ip = _parse(peer or "")
    if peer_ip is None:
        return peer or UNKNOWN
    if not forwarded_for or not _is_trusted(peer_ip):
        return str(peer_ip)
    client = peer_ip
    for hop in reversed(forwarded_for.split(",")):
        hop_ip = _parse(hop)
        if hop_ip is None:
            # A trusted proxy passed on something that is no address: stop at that proxy
            # rather than let the garbage become an identity a client can rotate.
            return str(client)
        client = hop_ip
        if not _is_trusted(hop_ip):
            return str(hop_ip)
    return str(client)  # every hop is ours: the left-most is the best we know


def for_request(request) -> str:
    meta = request.META
    return resolve(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""))


def for_scope(scope) -> str:
    """The same answer for an ASGI scope (a WebSocket or an HTTP request before Django)."""
    client = scope.get("client") or ("", 0)
    forwarded = b",".join(
        value for name, value in scope.get("headers", []) if name.lower() == b"x-forwarded-for"
    )
    return resolve(client[0] or "", forwarded.decode("latin-1"))
