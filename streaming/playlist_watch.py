"""Wake blocked playlist requests the moment a transcoder rewrites a playlist.

LL-HLS players ask for the next part before it exists (``_HLS_msn``/``_HLS_part``)
and the origin holds the request until the transcoder publishes it. Holding must cost
no thread and no polling: every waiter is a future on the event loop, and one Linux
inotify watch per rendition folder (``asyncinotify``, a small well-kept wrapper, in one
task per process) resolves all the futures of that folder when a file is renamed into
it, which is how the transcoder publishes every part, segment and playlist
(``streaming/transcoder/atomic_files.py``). So a thousand viewers waiting on one
rendition cost a thousand futures and one kernel watch, and a part wakes them all in
one loop pass.

The origin reads ``HLS_ROOT`` itself, so it already runs where the transcoders' files
are visible. Where inotify is missing (not Linux) or refuses (out of watches), one task
per process checks the watched playlists' modification times every
``FALLBACK_INTERVAL`` instead: still one timer for all waiters, never one per request.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections import defaultdict

logger = logging.getLogger("livesite.hls")

FALLBACK_INTERVAL = 0.05

try:
    from asyncinotify import Inotify, Mask
except (ImportError, OSError):  # not Linux
    Inotify = Mask = None


class PlaylistWatcher:
    """Futures per folder, resolved on any publish in that folder."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future]] = defaultdict(set)
        self._folders: dict[object, str] = {}  # inotify watch -> folder
        self._watched: set[str] = set()
        self._inotify = None
        self._inotify_failed = Inotify is None
        self._polled: dict[str, int] = {}
        self._tasks: set[asyncio.Task] = set()

    def arm(self, folder: str) -> asyncio.Future:
        """A future resolved at the next publish in `folder`. Arm before reading the
        playlist, so a publish between the read and the wait is not missed."""
        future = asyncio.get_running_loop().create_future()
        self._waiters[folder].add(future)
        self._watch(folder)
        return future

    async def wait(self, folder: str, future: asyncio.Future, timeout: float) -> bool:
        """Until `future` (from ``arm``) resolves or `timeout` seconds pass; True when
        woken by a publish."""
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.disarm(folder, future)

    def disarm(self, folder: str, future: asyncio.Future) -> None:
        future.cancel()
        waiters = self._waiters.get(folder)
        if waiters is not None:
            waiters.discard(future)
            if not waiters:
                del self._waiters[folder]

    def waiting(self) -> int:
        return sum(len(waiters) for waiters in self._waiters.values())

    def _wake(self, folder: str) -> None:
        for future in self._waiters.pop(folder, ()):
            if not future.done():
                future.set_result(None)

    def _watch(self, folder: str) -> None:
        if folder in self._watched or folder in self._polled:
            return
        inotify = self._open_inotify()
        if inotify is not None:
            try:
                watch = inotify.add_watch(folder, Mask.MOVED_TO | Mask.ONLYDIR)
            except OSError:
                pass  # no such folder yet, or out of watches: poll it
            else:
                self._folders[watch] = folder
                self._watched.add(folder)
                return
        self._polled[folder] = _modified(folder)
        if len(self._polled) == 1:
            self._start(self._poll())

    def _open_inotify(self):
        if self._inotify is None and not self._inotify_failed:
            try:
                self._inotify = Inotify()
            except OSError:
                self._inotify_failed = True
                logger.warning("inotify unavailable; polling playlists instead")
            else:
                self._start(self._read_events())
        return self._inotify

    def _start(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_events(self) -> None:
        async for event in self._inotify:
            folder = self._folders.get(event.watch)
            if folder is None:
                continue
            if event.mask & Mask.IGNORED:
                # The folder was deleted (a new stream empties the room's folder).
                del self._folders[event.watch]
                self._watched.discard(folder)
            self._wake(folder)

    async def _poll(self) -> None:
        while self._polled:
            await asyncio.sleep(FALLBACK_INTERVAL)
            for folder in list(self._polled):
                if folder not in self._waiters:
                    del self._polled[folder]
                    continue
                modified = _modified(folder)
                if modified != self._polled[folder]:
                    self._polled[folder] = modified
                    self._wake(folder)


def _modified(folder: str) -> int:
    try:
        return os.stat(os.path.join(folder, "index.m3u8")).st_mtime_ns
    except OSError:
        return 0


_watchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def watcher() -> PlaylistWatcher:
    """This event loop's watcher (daphne runs one loop; tests may run several)."""
    loop = asyncio.get_running_loop()
    found = _watchers.get(loop)
    if found is None:
        found = _watchers[loop] = PlaylistWatcher()
    return found
