"""The `gift` frame is published to the room once the send commits."""

from gifts.services import sending
from gifts.tests.conftest import new_key


def test_a_gift_reaches_everyone_in_the_room(
    rich_bob, live_room, catalog, django_capture_on_commit_callbacks, published_events
):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = sending.send_gift(rich_bob, live_room, "rocket", 1, new_key())
        assert not published_events  # nothing leaves before the commit

    gifts = [item for item in published_events if item.type == "gift"]
    assert len(gifts) == 1
    assert gifts[0].room_id == live_room.pk
    event = gifts[0].event
    assert (event["type"], event["id"]) == ("gift", str(receipt.transfer_id))
    assert event["gift"]["tier"] == "large"
    assert event["combo"]["total"] == 1
