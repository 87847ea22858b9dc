"""The idempotency keys clients send with each value-moving request (a gift send, a
purchase, an admin grant): one shape, checked before anything moves."""

import re

from gifts.errors import BadIdempotencyKey

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def checked_key(key) -> str:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        raise BadIdempotencyKey()
    return key
