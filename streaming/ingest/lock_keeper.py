"""The ingest's live locks, taken, renewed and released on a thread of their own.

The ingest's event loop also answers WebRTC offers, runs DTLS handshakes and sends
every real-time viewer's packets. A burst of viewers joining kept that loop busy for
longer than a live lock's lifetime (INGEST_LOCK_TTL), the lock expired, and the room
was taken back as if the ingest had died. A lock must say "this process is alive and
holds the room", not "its event loop is idle", so every call on the lock runs here,
on a small event loop in its own thread, which renews the held locks every
`renew_every` seconds whatever the main loop is doing, and tells the main loop the
outcome (`on_renewed(room_id, token, fence)`, 0 meaning lost) with
`call_soon_threadsafe`.

Acquire, renew and release of one lock all run on this one loop, one after another:
a renewal can never take back a lock the ingest released a moment before.

A process whose main loop is wedged rather than busy must not keep its rooms forever:
a timer of the keeper's own on the main loop beats every `renew_every` seconds, and
renewals stop when it has not beaten for `wedged_after` seconds, so another ingest can
take the rooms. The beat depends on nothing but the loop running: not on the watch's
database poll, which a stalled database can hold for longer than that.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from streaming.ingest.live_lock import LiveLock

logger = logging.getLogger("livesite.ingest")


class LockKeeper:
    def __init__(
        self,
        lock: LiveLock,
        renew_every: float,
        on_renewed: Callable[[int, str, int], None],
        wedged_after: float = 60.0,
    ) -> None:
        self._lock = lock
        self._renew_every = renew_every
        self._on_renewed = on_renewed
        self._wedged_after = wedged_after
        self._held: dict[int, str] = {}  # touched on the keeper's loop only
        self._beat = time.monotonic()
        self._main_loop: asyncio.AbstractEventLoop | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="live-locks", daemon=True
        )
        self._renewing: asyncio.Future | None = None
        self._beating: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._main_loop = asyncio.get_running_loop()
        self._beat_now()
        self._thread.start()
        self._renewing = asyncio.run_coroutine_threadsafe(self._renew_forever(), self._loop)

    def _beat_now(self) -> None:
        """On the main loop: it is running."""
        self._beat = time.monotonic()
        self._beating = self._main_loop.call_later(self._renew_every, self._beat_now)

    async def acquire(self, room_id: int, token: str) -> int:
        return await self._on_keeper(self._acquire(room_id, token))

    async def release(self, room_id: int, token: str) -> None:
        await self._on_keeper(self._release(room_id, token))

    async def close(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
        if not self._thread.is_alive():  # never started
            await self._lock.close()
            if self._thread.ident is None:
                self._loop.close()
            return
        if self._renewing is not None:
            self._renewing.cancel()
        await self._on_keeper(self._lock.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 5)
        if not self._thread.is_alive():
            self._loop.close()  # its selector and self-pipe

    # --- on the keeper's loop -----------------------------------------------------

    async def _on_keeper(self, coroutine):
        if not self._thread.is_alive():
            coroutine.close()
            raise RuntimeError("the lock keeper is not running (start() it first)")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    async def _acquire(self, room_id: int, token: str) -> int:
        fence = await self._lock.acquire(room_id, token)
        if fence:
            self._held[room_id] = token
        return fence

    async def _release(self, room_id: int, token: str) -> None:
        if self._held.get(room_id) == token:
            del self._held[room_id]
        await self._lock.release(room_id, token)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._renew_every)
            if time.monotonic() - self._beat > self._wedged_after:
                logger.error("the ingest's event loop has not run for %.0fs; live locks "
                             "are no longer renewed", time.monotonic() - self._beat)  # fmt: skip
                continue
            for room_id, token in list(self._held.items()):
                if self._held.get(room_id) != token:
                    continue  # released since
                try:
                    fence = await self._lock.renew(room_id, token)
                except Exception:
                    logger.warning("room %s: live lock renewal failed", room_id, exc_info=True)
                    continue
                if not fence:
                    self._held.pop(room_id, None)
                try:
                    self._main_loop.call_soon_threadsafe(self._on_renewed, room_id, token, fence)
                except RuntimeError:  # the main loop is closed: the process is ending
                    return
