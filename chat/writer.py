"""Writing accepted chat messages to the database in batches.

A busy room must not pay one database round trip per message. Each process
keeps one writer per event loop: senders hand it a message and wait; the
writer collects what arrives within BATCH_WINDOW (or BATCH_SIZE messages) and
writes it with one multi-row INSERT. Each sender's wait ends when its batch
has committed, and only then is the message broadcast and acknowledged, so an
acknowledged message can no longer be lost. At 20 messages a second a batch
costs one round trip for about two messages at most 20 ms later; in a flood it
is one round trip per hundred.
"""

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async

from chat.errors import NotSaved
from chat.models import ChatMessage

log = logging.getLogger(__name__)
BATCH_WINDOW = 0.02
BATCH_SIZE = 100


def _insert(messages: list[ChatMessage]) -> None:
    ChatMessage.objects.bulk_create(messages)


class MessageWriter:
    def __init__(self):
        self._queue: asyncio.Queue[tuple[ChatMessage, asyncio.Future]] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="chat-writer")

    async def save(self, message: ChatMessage) -> None:
        """Return once `message` is committed; raise NotSaved if it could not be."""
        done = asyncio.get_running_loop().create_future()
        await self._queue.put((message, done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            deadline = asyncio.get_running_loop().time() + BATCH_WINDOW
            while len(batch) < BATCH_SIZE:
                # Take what is queued already without a loop turn per message: on a busy
                # loop each wait costs a whole turn and batches would shrink to two.
                while len(batch) < BATCH_SIZE and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            await self._write(batch)

    async def _write(self, batch) -> None:
        try:
            await database_sync_to_async(_insert)([message for message, _ in batch])
        except Exception:
            log.exception("could not save a batch of %d chat messages", len(batch))
            for _, done in batch:
                if not done.done():
                    done.set_exception(NotSaved("Your message was not saved. Send it again."))
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)


_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MessageWriter]" = (
    weakref.WeakKeyDictionary()
)


def get_writer() -> MessageWriter:
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = MessageWriter()
    return writer
