"""Combos: the same gift from the same sender in the same room, again within a few seconds.

A combo is counted in the database at send time, under the sender's coin row
lock (see gifts.ledger), so a sender's sends are already serialised and the
previous one is committed: no cache state to lose or to race on, and a
replayed send answers with the combo it had. `ledger.previous_sends` reads a
batch's previous sends in one round trip.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from gifts import conf


@dataclass(frozen=True)
class PreviousSend:
    """The combo fields of a sender's last send."""

    room_id: int | None
    gift_id: int
    combo_id: int
    combo_count: int
    combo_total: int
    recent: bool  # sent within the combo window before this send


@dataclass(frozen=True)
class Combo:
    id: int | None  # transfer id of the combo's first send; None: this send starts one
    count: int  # sends in the combo, this one included
    total: int  # gifts in the combo (sum of quantities): the "x12" on screen

    def as_dict(self) -> dict:
        return {"id": str(self.id), "count": self.count, "total": self.total}


def window_start(now: datetime) -> datetime:
    """The earliest time a previous send continues a combo with a send at `now`."""
    return now - timedelta(seconds=conf.combo_window_seconds())


def continue_or_start(
    previous: PreviousSend | None, room_id: int, gift_id: int, quantity: int
) -> Combo:
    """The combo this send belongs to; any other gift or room in between ends a combo."""
    if (
        previous is not None
        and previous.recent
        and previous.room_id == room_id
        and previous.gift_id == gift_id
    ):
        return Combo(previous.combo_id, previous.combo_count + 1, previous.combo_total + quantity)
    return Combo(None, 1, quantity)
