"""Builders of every frame the chat app sends; shapes documented in docs/protocol.md."""

from chat.protocol import PROTOCOL_VERSION


def user_summary(user_id: int, name: str, role: str) -> dict:
    badges = [role] if role in {"owner", "moderator", "staff"} else []
    return {"id": user_id, "name": name, "role": role, "badges": badges}


def hello(
    room_slug: str,
    user: dict | None,
    can_chat: bool,
    can_moderate: bool,
    status: str = "offline",
    stream_id: int | None = None,
) -> dict:
    """The first frame. `status` and `stream` are read from the database at connect, so a
    page rendered from a stale cache corrects itself."""
    return {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "room": room_slug,
        "user": user,
        "can_chat": can_chat,
        "can_moderate": can_moderate,
        "status": status,
        "stream": stream_id,
    }


def chat_message(
    message_id: int, room_slug: str, user: dict, text: str, ts_ms: int, nonce: str | None
) -> dict:
    return {
        "type": "chat.message",
        "id": str(message_id),
        "room": room_slug,
        "user": user,
        "text": text,
        "ts": ts_ms,
        "nonce": nonce,
    }


def chat_delete(message_id: int) -> dict:
    return {"type": "chat.delete", "id": str(message_id)}


def chat_history(messages: list[dict], complete: bool = True) -> dict:
    return {"type": "chat.history", "messages": messages, "complete": complete}


def chat_liked(message_id: int, likes: int) -> dict:
    return {"type": "chat.liked", "id": str(message_id), "likes": likes}


def presence_count(viewers: int, logged_in: int) -> dict:
    return {"type": "presence.count", "viewers": viewers, "logged_in": logged_in}


def presence_audience(users: list[dict], anonymous: int) -> dict:
    return {"type": "presence.audience", "users": users, "anonymous": anonymous}


def presence_join(user: dict) -> dict:
    return {"type": "presence.join", "user": user}


def presence_leave(user: dict) -> dict:
    return {"type": "presence.leave", "user": user}


def likes(total: int, delta: int) -> dict:
    return {"type": "likes", "total": total, "delta": delta}


def slow_mode(seconds: int) -> dict:
    return {"type": "chat.slow_mode", "seconds": seconds}


def error(code: str, message: str, **details) -> dict:
    return {"type": "error", "code": code, "message": message, **details}


def message_held(message_id: int, nonce: str | None, message: str, reasons) -> dict:
    """To the sender only: not a failure, the message waits for a moderator. An `error`
    frame with the code `message_held`, as clients have always read it."""
    return error("message_held", message, id=str(message_id), nonce=nonce, reasons=list(reasons))


def pong() -> dict:
    return {"type": "pong"}
