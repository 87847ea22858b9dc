"""Stream keys: the password a broadcaster's encoder (OBS) sends to go live.

A key is 256 random bits, shown to the room's owner once when it is made. The
database keeps only its SHA-256: the key is already uniformly random, so a slow
password hash would add nothing but latency at every publish, and a leaked
table still reveals no key.
"""

import hashlib
import hmac
import secrets

KEY_PREFIX = "live_"


def new_stream_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_stream_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def stream_key_matches(key: str, stored_hash: str) -> bool:
    """Constant-time check of a presented key against a stored hash."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_stream_key(key), stored_hash)


def stream_key_fingerprint(key: str) -> str:
    """A short, non-reversible tag for logs: never log the key itself."""
    return hash_stream_key(key)[:8]
