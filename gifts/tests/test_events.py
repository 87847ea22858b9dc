"""The `gift` frame is published to the room once the send commits."""

from gifts.services import after_send, sending
from gifts.tests.conftest import new_key
from realtime import publish as broadcast


def test_a_gift_reaches_everyone_in_the_room(
    rich_bob, live_room, catalog, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr(
        broadcast, "publish", lambda room_id, event: published.append((room_id, event))
    )
    monkeypatch.setattr(after_send, "publish_many", published.extend)  # a batch's gift frames
    with django_capture_on_commit_callbacks(execute=True):
        receipt = sending.send_gift(rich_bob, live_room, "rocket", 1, new_key())
        assert not published  # nothing leaves before the commit

    gifts = [(room_id, e) for room_id, e in published if e["type"] == "gift"]
    assert len(gifts) == 1
    room_id, event = gifts[0]
    assert room_id == live_room.pk
    assert (event["type"], event["id"]) == ("gift", str(receipt.transfer_id))
    assert event["gift"]["tier"] == "large"
    assert event["combo"]["total"] == 1
