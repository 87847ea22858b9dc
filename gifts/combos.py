"""Combos: the same gift from the same sender in the same room, again within a few seconds.

A combo is counted in the database at send time, under the sender's coin row
lock (see gifts.ledger), so a sender's sends are already serialised and the
previous one is committed: no cache state to lose or to race on, and a
replayed send answers with the combo it had.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from gifts import conf
from gifts.models import GiftSend


@dataclass(frozen=True)
class Combo:
    id: int | None  # transfer id of the combo's first send; None: this send starts one
    count: int  # sends in the combo, this one included
    total: int  # gifts in the combo (sum of quantities): the "x12" on screen

    def as_dict(self) -> dict:
        return {"id": str(self.id), "count": self.count, "total": self.total}


def continue_or_start(
    sender_id: int, room_id: int, gift_id: int, quantity: int, now: datetime
) -> Combo:
    """The combo this send belongs to; any other gift or room in between ends a combo."""
    previous = (
        GiftSend.objects.filter(sender_id=sender_id)
        .order_by("-transfer_id")
        .values("room_id", "gift_id", "created_at", "combo_id", "combo_count", "combo_total")
        .first()
    )
    window = timedelta(seconds=conf.combo_window_seconds())
    if (
        previous
        and previous["room_id"] == room_id
        and previous["gift_id"] == gift_id
        and now - previous["created_at"] <= window
    ):
        return Combo(
            previous["combo_id"], previous["combo_count"] + 1, previous["combo_total"] + quantity
        )
    return Combo(None, 1, quantity)
