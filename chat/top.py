"""Top comments: each stream's most-liked messages.

The database (ChatMessage.like_count, one ChatMessageLike per user and
message) is the source of truth. With Redis, a sorted set per stream answers
"the top page" without scanning the stream's messages: ZINCRBY on each like,
ZREVRANGE for a page, rebuilt from the database when missing. Without Redis
the database answers directly from its (stream, like_count) index.
"""

from chat.models import ChatMessage
from realtime.redis_client import get_sync_redis, redis_key

TOP_TTL_SECONDS = 7 * 24 * 3600


def _key(stream_id: int) -> str:
    return redis_key("top", stream_id)


def _client():
    return get_sync_redis()


def record_like(stream_id: int, message_id: int) -> None:
    client = _client()
    if client is None:
        return
    if client.exists(_key(stream_id)):
        client.zincrby(_key(stream_id), 1, message_id)
    else:
        rebuild(stream_id, client)


def forget(stream_id: int, message_id: int) -> None:
    client = _client()
    if client is not None:
        client.zrem(_key(stream_id), message_id)


def rebuild(stream_id: int, client=None) -> int:
    """Refill the stream's sorted set from the database; returns how many messages it holds."""
    client = client or _client()
    if client is None:
        return 0
    scores = dict(
        ChatMessage.objects.filter(
            stream_id=stream_id, like_count__gt=0, deleted_at__isnull=True
        ).values_list("id", "like_count")
    )
    with client.pipeline() as pipe:
        pipe.delete(_key(stream_id))
        if scores:
            pipe.zadd(_key(stream_id), {str(k): v for k, v in scores.items()})
            pipe.expire(_key(stream_id), TOP_TTL_SECONDS)
        pipe.execute()
    return len(scores)


def top_message_ids(stream_id: int, offset: int, limit: int) -> list[int] | None:
    """A page of the ranking from Redis, or None to let the database answer."""
    client = _client()
    if client is None:
        return None
    if not client.exists(_key(stream_id)):
        rebuild(stream_id, client)
    return [int(m) for m in client.zrevrange(_key(stream_id), offset, offset + limit - 1)]


def top_messages(stream_id: int, offset: int, limit: int) -> list[ChatMessage]:
    ids = top_message_ids(stream_id, offset, limit)
    visible = ChatMessage.objects.filter(stream_id=stream_id, deleted_at__isnull=True)
    if ids is None:
        ranked = visible.filter(like_count__gt=0).order_by("-like_count", "id")
        return list(ranked.select_related("user")[offset : offset + limit])
    by_id = visible.select_related("user").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]
