"""Experiments: the project's chat with proposed changes, to measure a fix before making it.

A variant's name is one or more changes joined by "+", e.g. `coalescing+yielding`;
daphne serves it as `bench.chat.variants:coalescing+yielding` (scenario x of
bench/chat_load.py, or `--server NAME` for scenarios b and c). A variant is the
project's own ASGI application plus patches applied when its first socket
connects, so importing this module changes nothing. No patch is meant to be
copied as is; each stands for a change to chat/ or livesite/.

Changes (bench/chat/patches.py):
- `coalescing`: a room hub runs at most one fan-out at a time; frames that
  arrive meanwhile go out together as one `batch` when it ends. Today
  (chat.hub.RoomHub.enqueue) every window spawns a fan-out task queued on
  `send_lock`, so once fan-outs take longer than the window they pile up.
- `yielding`: a fan-out yields to the event loop every 200 sockets. Today it
  writes to every socket in one turn of the loop (100+ ms for 2,000 sockets),
  and each Redis reply the message path waits for (rate check, publish, the
  hub's three round trips per received event) waits a whole turn.
- `draining_writer`: the batch writer (chat.writer) takes every message already
  queued before it looks at its 20 ms deadline; today a late wake-up on a busy
  loop ends the batch at one message.
- `pubsub`: channels_redis' RedisPubSubChannelLayer instead of RedisChannelLayer
  (events pushed to the hub; but every publish of a process holds one lock).
- `direct_pubsub`: the hub on plain Redis pub/sub (patches.RoomPubSub): services
  PUBLISH through the shared connection pool, concurrently; each process holds
  one subscription that Redis pushes its rooms' events down, read in bulk.
- `direct_send`: sockets written through daphne's own `send`, not through
  channels.sessions.SessionMiddleware's wrapper, which re-reads the lazy
  session on every outgoing frame; session and user resolved at the handshake.
- `prebuilt_frames` (implies `direct_send`): a fan-out frames the text once and
  hands the bytes to each socket's Twisted transport, skipping daphne and
  autobahn: a measure of how much of a delivery is framing and how much is
  Twisted's write path, not a change to make.
- `gc_tuned`: a higher first-generation threshold, and `gc.freeze()` once the
  room has filled.
- `old_thresholds`: the collector thresholds livesite/asgi.py once set
  (50,000, 20, 10; docs/reliability.md, section 1), on top of today's start-up
  `gc.freeze()`: the baseline of the side-by-side run in docs/benchmarks.md.

`proposed` stands for direct_pubsub+coalescing+yielding+draining_writer.

Diagnostics (bench/chat/instruments.py), logged to the daphne log every 5 s:
- `timing`: stamp-to-hub delays, fan-out durations, the writer's batches.
- `gc_report`: the cyclic collector's CPU time per generation.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

import django

django.setup()  # before anything below touches a model

import asyncio  # noqa: E402
import gc  # noqa: E402

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from bench.chat import instruments, patches  # noqa: E402
from livesite.asgi import application as project_application  # noqa: E402
from livesite.asgi import django_asgi_app  # noqa: E402
from livesite.routing import websocket_urlpatterns  # noqa: E402

FREEZE_AFTER = 20.0  # seconds after the first socket: the benchmark's room has filled by then


def tune_collector() -> None:
    gc.set_threshold(50_000, 20, 100)
    asyncio.get_running_loop().call_later(FREEZE_AFTER, gc.freeze)


# In the order they are applied: diagnostics last, so they time the patched code.
CHANGES = {
    "coalescing": patches.use_coalescing,
    "yielding": patches.use_yielding_fan_out,
    "prebuilt_frames": patches.use_prebuilt_frames,
    "draining_writer": patches.use_draining_writer,
    "pubsub": patches.use_pubsub_layer,
    "direct_pubsub": patches.use_direct_pubsub,
    "direct_send": None,  # a different middleware stack, not a patch
    "gc_tuned": tune_collector,
    "old_thresholds": lambda: gc.set_threshold(50_000, 20, 10),
    "timing": lambda: instruments.HubTimings().install(),
    "gc_report": lambda: instruments.CollectorClock().install(),
}
NEEDS_DIRECT_SEND = {"direct_send", "prebuilt_frames"}
# The four changes that together hold 2,000 viewers at 20 messages a second.
ALIASES = {"proposed": "direct_pubsub+coalescing+yielding+draining_writer"}

handshake_auth_application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            patches.HandshakeAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)


class Variant:
    """An ASGI application that applies its patches when its first connection arrives."""

    def __init__(self, name: str):
        changes = set()
        for part in name.split("+"):
            changes.update(ALIASES.get(part, part).split("+"))
        unknown = changes - set(CHANGES)
        if unknown:
            raise AttributeError(f"no such change: {', '.join(sorted(unknown))}")
        direct = bool(changes & NEEDS_DIRECT_SEND)
        self.inner = handshake_auth_application if direct else project_application
        self.patches = [patch for key, patch in CHANGES.items() if key in changes and patch]
        self.applied = False

    async def __call__(self, scope, receive, send):
        if not self.applied:
            self.applied = True
            for patch in self.patches:
                patch()
        return await self.inner(scope, receive, send)


_variants: dict[str, Variant] = {}


def __getattr__(name: str) -> Variant:
    """`bench.chat.variants:<change>+<change>` as daphne asks for it."""
    if name.startswith("__"):
        raise AttributeError(name)
    if name not in _variants:
        _variants[name] = Variant(name)
    return _variants[name]
