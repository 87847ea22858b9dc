"""Where a room's stream starts and ends on this ingest.

Starting: the room's live folder emptied, a `Stream` started in the database (or, with
several ingest machines, the stream of a node that died within the reconnect grace
continued, streaming/hls_nodes.py) and the room claimed in the node registry. Ending:
the playlists closed, the replay kept, the stream ended, the live lock released and the
registry cleared; each step runs even if one before it failed (the room may have been
deleted). `Ingest` (service.py) decides when, under its guard; it runs the ending in a
task of its own, so one long replay never holds up other publishers.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from rooms import cache as room_cache
from rooms import services as rooms
from streaming.hls_nodes import NodeRegistry
from streaming.ingest.database import on_database_thread
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.lock_keeper import LockKeeper
from streaming.ingest.settings import IngestSettings
from streaming.replays import REPLAYS, make_replay, prune_live_folder
from streaming.transcoder.rendition_playlist import end_live_playlists

logger = logging.getLogger("livesite.ingest")


async def open_stream(
    room, token: str, fence: int, hls_root: Path, nodes: NodeRegistry | None
) -> LiveRoom:
    """The room's new (or continued) stream, once this ingest holds its live lock."""
    output = hls_root / room.slug
    # A new stream starts from an empty folder: no segment of the last one may leak in.
    await asyncio.to_thread(_empty_folder, output)
    # We just took the room's lock: a stream still open in the database was left by an
    # ingest that vanished, and is ended rather than continued; unless the registry of
    # several ingest machines says its node died within the reconnect grace.
    handoff = await nodes.handoff(room.pk) if nodes else None
    if handoff is not None:
        stream = await on_database_thread(rooms.continue_stream, room, handoff.stream_id)
        if stream.pk != handoff.stream_id:
            handoff = None
    else:
        stream = await on_database_thread(rooms.start_stream, room, True)
    if nodes:
        await nodes.claim(room.pk, room.slug, stream.pk, handoff)
    if handoff is not None:
        logger.info("room %s: continues stream %s from node %s after segment %s",
                    room.slug, stream.pk, handoff.node, handoff.last_sequence)  # fmt: skip
    return LiveRoom(
        room=room,
        output=output,
        lock_token=token,
        lock_fence=fence,
        key_hash=room.stream_key_hash,
        stream_id=stream.pk,
        handoff=handoff,
    )


async def finish_stream(
    live: LiveRoom, settings: IngestSettings, lock: LockKeeper, nodes: NodeRegistry | None
) -> None:
    """Close the playlists, keep the replay, end the stream, release the lock."""
    try:
        await asyncio.to_thread(end_live_playlists, live.output)
    except OSError:
        logger.exception("room %s: could not end the live playlists", live.slug)
    if not live.lock_lost:
        if settings.keep_replays:
            await _keep_replay(live)
        try:
            await on_database_thread(rooms.end_stream, live.room, live.stream_id)
        except Exception:
            logger.exception("room %s: could not end the stream", live.slug)
        await lock.release(live.room_id, live.lock_token)
        if nodes:
            await nodes.clear(live.room_id, live.slug)
    try:
        await room_cache.store_health(live.room_id, None)
    except Exception:
        logger.warning("room %s: could not clear the health report", live.slug)
    logger.info("room %s: stream ended", live.slug)


async def _keep_replay(live: LiveRoom) -> None:
    if live.stream_id is None:
        return
    try:
        seconds = await asyncio.to_thread(make_replay, live.output, live.stream_id)
        await asyncio.to_thread(prune_live_folder, live.output)
        if seconds:
            await on_database_thread(rooms.record_replay, live.stream_id, seconds)
    except Exception:  # a replay that cannot be made must not keep the room live
        logger.exception("room %s: could not keep the replay", live.slug)


def _empty_folder(folder: Path) -> None:
    """Empty the room's live folder, keeping its replays (streaming/replays.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.name == REPLAYS:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
