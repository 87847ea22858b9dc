"""Builders of the frames the notifications app sends over the directory socket
(shapes in docs/protocol.md)."""


def go_live(room) -> dict:
    return {
        "kind": "go_live",
        "room": room.slug,
        "title": room.title,
        "broadcaster": room.owner.public_name,
        "url": room.get_absolute_url(),
    }


def unread(count: int, latest: dict | None = None) -> dict:
    """The bell's count; `latest` is what just arrived (None when the count fell)."""
    return {"type": "notifications.unread", "unread": count, "latest": latest}
