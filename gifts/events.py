"""Builders of the real-time events the gifts app publishes to a room (shapes in the report
handed to docs/protocol.md). Each event has exactly one builder here."""

from gifts.models import GiftSend


def gift(send: GiftSend, gift_entry: dict, sender, room_slug: str, totals: dict) -> dict:
    """A gift landed in the room: animate it, bump the combo, update the boards.

    `totals` are the sender's running coins on the room's boards after this
    send ({"stream": ..., "broadcaster": ...}), so a page keeps its boards
    exact between the throttled `leaderboard` frames.
    """
    return {
        "type": "gift",
        "id": str(send.transfer_id),
        "room": room_slug,
        "stream": send.stream_id,
        "sender": {"username": sender.username, "name": sender.public_name},
        "gift": gift_entry,
        "quantity": send.quantity,
        "coins": send.coins,
        "combo": {
            "id": str(send.combo_id),
            "count": send.combo_count,
            "total": send.combo_total,
        },
        "totals": totals,
        "sent_at": send.created_at.isoformat(),
    }


def leaderboard(room_slug: str, board_page: dict) -> dict:
    """A snapshot of the top of one of the room's boards (`stream` or `broadcaster`)."""
    return {"type": "leaderboard", "room": room_slug, **board_page}


def gift_sent(receipt: dict, idempotency_key: str) -> dict:
    """The sender's answer to gift.send (gifts.services.sending.GiftReceipt.as_dict())."""
    return {"type": "gift.sent", **receipt, "idempotency_key": idempotency_key}
