"""How a WHIP request reaches the ingest process, where WebRTC media terminates.

Browsers and OBS send WHIP to the site (`POST /whip/`), but the media must end next to
the transcoders, in `manage.py ingest`. The web view hands each request over:

- with Redis, through lists: offers go on one shared list that every ingest pops
  (`BLPOP`), so any free ingest takes a new publisher, and each session's later
  requests (DELETE) go on the list of the ingest that holds it, named in the session
  id; the answer comes back on a one-off reply list. No new port, no service
  discovery, and an ingest that dies simply stops popping;
- with no Redis (the one-process install, `manage.py serve`), by a direct call to the
  ingest running in the same process.

Requests carry a deadline: an ingest never answers an offer whose web request gave up.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import secrets
import time

from streaming.ingest.errors import PublishRefused
from streaming.ingest.whep import WatchRefused

logger = logging.getLogger("livesite.ingest")

HANDOVER_SECONDS = 10.0
POP_SECONDS = 1
REPLY_KEEP_SECONDS = 30
NO_INGEST = {"status": 503, "reason": "no ingest is taking WebRTC publishers right now"}
REFUSAL_STATUS = {
    PublishRefused.UNKNOWN_KEY: 401,
    PublishRefused.NOT_ALLOWED: 403,
    PublishRefused.ALREADY_LIVE: 409,
    PublishRefused.UNAVAILABLE: 503,
}

_local_publishers = None  # the WhipPublishers of an ingest in this process, if any


def _key(*parts) -> str:
    from realtime.redis_client import redis_key

    return redis_key("whip", *parts)


def _queue_key(*parts) -> str:
    # An ingest pops its own queue and the shared one in one BLPOP: on a Redis Cluster
    # both must be in one slot, so every queue shares one hash tag.
    return _key("{queues}", *parts)


async def answer_request(whip, request: dict) -> dict:
    """Run one handed-over request on this ingest; the reply is JSON-ready."""
    if request.get("op") == "publish":
        try:
            session_id, answer = await whip.publish(request["key"], request["sdp"])
        except PublishRefused as refused:
            return {"status": REFUSAL_STATUS[refused.kind], "reason": refused.description}
        except ValueError as error:
            return {"status": 400, "reason": str(error)}
        return {"status": 201, "session": session_id, "sdp": answer}
    if request.get("op") == "watch":
        try:
            session_id, answer = await whip.viewers.watch(request["slug"], request["sdp"])
        except WatchRefused as refused:
            reply = {"status": refused.status, "reason": refused.reason}
            if refused.retry_after is not None:
                reply["retry_after"] = refused.retry_after
            return reply
        return {"status": 201, "session": session_id, "sdp": answer}
    if request.get("op") == "end":
        ended = await whip.end(request["session"]) or await whip.viewers.end(request["session"])
        return {"status": 200 if ended else 404}
    return {"status": 400, "reason": "unknown request"}


# --- the web side -----------------------------------------------------------------


async def hand_over_watch(slug: str, offer: str) -> dict:
    """A real-time viewer's offer, to the ingest holding the room's publisher."""
    from realtime.redis_client import get_redis
    from streaming.ingest.whip import room_ingest_key

    request = {"op": "watch", "slug": slug, "sdp": offer}
    client = get_redis()
    if client is None:
        return await hand_over(request)
    ingest_id = await client.get(room_ingest_key(slug))
    if ingest_id is None:
        return {"status": 409, "reason": "real-time viewing is not available here; use HLS"}
    return await hand_over(request, ingest_id=ingest_id.decode())


async def hand_over(request: dict, session_id: str = "", ingest_id: str = "") -> dict:
    """Send `request` to an ingest: the one holding `session_id` or named `ingest_id`,
    else any."""
    from realtime.redis_client import get_redis

    ingest_id = ingest_id or session_id.split("-", 1)[0]
    client = get_redis()
    if client is None:
        if _local_publishers is None:
            return NO_INGEST
        if ingest_id and ingest_id != _local_publishers.ingest_id:
            return {"status": 404}
        # In a fresh context: the session's tasks outlive this web request, and must not
        # inherit its asgiref thread executor (gone once the response is sent).
        task = asyncio.get_running_loop().create_task(
            answer_request(_local_publishers, request), context=contextvars.Context()
        )
        return await task
    reply_key = _key("reply", secrets.token_hex(12))
    deadline = time.time() + HANDOVER_SECONDS
    queue = _queue_key("ingest", ingest_id) if ingest_id else _queue_key("offers")
    await client.rpush(queue, json.dumps({**request, "reply": reply_key, "deadline": deadline}))
    while time.time() < deadline:
        # Short blocking pops: the shared client's socket timeout (REDIS_SOCKET_TIMEOUT).
        popped = await client.blpop([reply_key], timeout=POP_SECONDS)
        if popped is not None:
            return json.loads(popped[1])
    return {"status": 404} if ingest_id else NO_INGEST


# --- the ingest side --------------------------------------------------------------


class Handover:
    """Runs in the ingest: takes requests for this ingest's `WhipPublishers`."""

    def __init__(self, whip) -> None:
        self.whip = whip
        self._loop_task: asyncio.Task | None = None
        self._requests: set[asyncio.Task] = set()

    async def start(self) -> None:
        global _local_publishers

        _local_publishers = self.whip
        from realtime.redis_client import data_url

        if data_url():
            self._loop_task = asyncio.create_task(self._take_requests())

    async def close(self) -> None:
        global _local_publishers
        if _local_publishers is self.whip:
            _local_publishers = None
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)

    async def _take_requests(self) -> None:
        import redis.asyncio as redis

        from realtime.redis_client import client_options, data_url, new_client

        # A client of its own: a blocking pop must not hold up the ingest's other calls.
        # Its socket timeout must outlast a pop's own (POP_SECONDS).
        timeout = max(client_options().get("socket_timeout") or 0, POP_SECONDS + 5)
        client = new_client(data_url(), asyncio_client=True, socket_timeout=timeout)
        queues = [_queue_key("ingest", self.whip.ingest_id), _queue_key("offers")]
        try:
            while True:
                try:
                    popped = await client.blpop(queues, timeout=POP_SECONDS)
                except (OSError, redis.RedisError):
                    logger.warning("WHIP handover: Redis unavailable; retrying", exc_info=True)
                    await asyncio.sleep(1)
                    continue
                if popped is not None:
                    task = asyncio.create_task(self._answer(client, json.loads(popped[1])))
                    self._requests.add(task)
                    task.add_done_callback(self._requests.discard)
        finally:
            await client.aclose()

    async def _answer(self, client, request: dict) -> None:
        if request.get("deadline", 0) < time.time():
            return  # the web request gave up already
        try:
            reply = await answer_request(self.whip, request)
        except Exception:
            logger.exception("WHIP handover: request failed")
            reply = {"status": 500, "reason": "the ingest failed to answer"}
        if reply.get("status") == 201 and request.get("deadline", 0) < time.time():
            # Too late for the web request: nobody will ever use this session.
            await self.whip.end(reply["session"])
            return
        async with client.pipeline(transaction=True) as pipe:
            pipe.rpush(request["reply"], json.dumps(reply))
            pipe.expire(request["reply"], REPLY_KEEP_SECONDS)
            await pipe.execute()
