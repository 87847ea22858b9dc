"""Moderation as viewers and moderators meet it on the room socket (one process, in memory)."""

import time

import pytest
from channels.db import database_sync_to_async

from chat.models import ChatMessage
from moderation import services
from moderation.models import ReviewItem
from rooms import services as rooms

pytestmark = pytest.mark.django_db(transaction=True)
sync = database_sync_to_async


async def close_code(client, timeout: float = 5) -> int:
    """Read the socket until the server closes it; the close code."""
    deadline = time.monotonic() + timeout
    while True:
        output = await client.communicator.receive_output(max(0.01, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            return output["code"]


async def send_text(client, text: str, nonce: str) -> None:
    await client.send({"type": "chat.send", "text": text, "nonce": nonce})


async def test_a_ban_closes_the_banned_viewers_open_socket(open_socket, alice_room, bob, carol):
    viewer = await open_socket(alice_room, bob)
    await viewer.expect("hello")
    moderator = await open_socket(alice_room, carol)
    await moderator.send({"type": "mod.ban", "user_id": bob.pk, "reason": "abuse"})
    assert (await moderator.expect("mod.done")) == {
        "type": "mod.done",
        "action": "ban",
        "user_id": bob.pk,
    }
    assert await close_code(viewer) == 4403


async def test_a_banned_viewer_who_comes_back_may_watch_but_not_chat(
    open_socket, alice_room, bob, carol
):
    await sync(services.ban_user)(carol, alice_room, bob)
    viewer = await open_socket(alice_room, bob)
    assert (await viewer.expect("hello"))["can_chat"] is False
    await send_text(viewer, "let me back", "1")
    error = await viewer.expect("error")
    assert error["code"] == "restricted" and error["message"] == "You are banned from this room."


async def test_a_timed_out_viewer_keeps_reading_but_cannot_chat_or_like(
    open_socket, live_room, bob, carol
):
    viewer = await open_socket(live_room, bob)
    await viewer.expect("hello")
    moderator = await open_socket(live_room, carol)
    await moderator.send({"type": "mod.timeout", "user_id": bob.pk, "minutes": 5})
    assert (await moderator.expect("mod.done"))["minutes"] == 5

    await send_text(viewer, "hello?", "1")
    error = await viewer.expect("error")
    assert error["code"] == "restricted" and error["kind"] == "timeout"
    assert 290 < error["retry_after"] <= 300
    await viewer.send({"type": "like", "count": 3})
    assert (await viewer.expect("error"))["code"] == "restricted"

    await send_text(moderator, "still here", "c")
    assert (await viewer.expect("chat.message"))["text"] == "still here"
    assert not await ChatMessage.objects.filter(user=bob).aexists()


async def test_a_timed_out_viewer_cannot_like_a_message(open_socket, live_room, bob, carol):
    moderator = await open_socket(live_room, carol)
    await send_text(moderator, "like me", "c")
    message_id = (await moderator.expect("chat.message"))["id"]
    await sync(services.timeout_user)(carol, live_room, bob, 5)
    viewer = await open_socket(live_room, bob)
    await viewer.send({"type": "chat.like", "id": message_id})
    assert (await viewer.expect("error"))["code"] == "restricted"


async def test_a_socket_opened_during_a_timeout_may_chat_once_it_is_lifted(
    open_socket, alice_room, bob, carol
):
    await sync(services.timeout_user)(carol, alice_room, bob, 5)
    viewer = await open_socket(alice_room, bob)
    assert (await viewer.expect("hello"))["can_chat"] is False
    await sync(services.lift_restrictions)(carol, alice_room, bob)
    await send_text(viewer, "thanks", "1")
    assert (await viewer.expect("chat.message", nonce="1"))["text"] == "thanks"


async def test_a_blocked_term_is_refused_with_a_reason_the_sender_reads(
    open_socket, alice_room, alice, bob
):
    await sync(services.add_blocked_term)(alice, alice_room, "spoiler", "block")
    viewer = await open_socket(alice_room, bob)
    await send_text(viewer, "the ending is a SP0IL3R", "1")
    error = await viewer.expect("error")
    assert error["code"] == "message_blocked"
    assert error["message"] == "Your message has a word that isn't allowed here, so it wasn't sent."
    assert error["reasons"][0]["spans"] == [[16, 23]]  # where it is in the sender's text
    assert "spoiler" not in str(error).lower()  # the reason never names the term
    assert not await ChatMessage.objects.aexists()


async def test_a_masked_word_reaches_everyone_starred(open_socket, alice_room, alice, bob):
    await sync(services.add_blocked_term)(alice, alice_room, "darn", "mask")
    sender = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    await send_text(sender, "well d a r n it", "1")
    assert (await watcher.expect("chat.message"))["text"] == "well ******* it"
    assert (await ChatMessage.objects.aget()).text == "well ******* it"


async def test_a_held_message_appears_only_once_approved(
    open_socket, alice_room, alice, bob, carol
):
    await sync(services.add_blocked_term)(alice, alice_room, "idiot", "hold")
    sender = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    await send_text(sender, "you idiot", "h")
    held = await sender.expect("error")
    assert held["code"] == "message_held" and held["nonce"] == "h"
    assert "a moderator will review it" in held["message"]

    moderator = await open_socket(alice_room, carol)
    await send_text(moderator, "after", "m")
    assert (await watcher.expect("chat.message"))["text"] == "after"  # and not bob's
    stored = await ChatMessage.objects.aget(pk=int(held["id"]))
    assert stored.deleted_at is not None
    item = await ReviewItem.objects.aget(message_id=stored.pk)
    assert (item.source, item.reason, item.state) == ("held", "blocked_term", "open")

    await sync(services.approve)(carol, item)
    shown = await watcher.expect("chat.message", id=held["id"])
    assert shown["text"] == "you idiot" and shown["user"]["id"] == bob.pk


async def test_resending_a_held_messages_nonce_answers_the_same_hold(
    open_socket, alice_room, alice, bob
):
    await sync(services.add_blocked_term)(alice, alice_room, "idiot", "hold")
    sender = await open_socket(alice_room, bob)
    await send_text(sender, "you idiot", "h")
    held = await sender.expect("error")
    await send_text(sender, "you idiot", "h")  # a resend after a reconnect
    again = await sender.expect("error")
    assert again == held
    assert await ChatMessage.objects.filter(user=bob).acount() == 1
    assert await ReviewItem.objects.acount() == 1


async def test_a_new_rule_reaches_open_sockets_at_once(open_socket, alice_room, alice, bob):
    viewer = await open_socket(alice_room, bob)
    await send_text(viewer, "gg spoiler", "1")
    await viewer.expect("chat.message", nonce="1")
    await sync(services.add_blocked_term)(alice, alice_room, "spoiler", "block")
    await send_text(viewer, "gg spoiler", "2")
    assert (await viewer.expect("error"))["code"] == "message_blocked"


async def test_a_site_wide_term_applies_in_every_room(
    open_socket, alice_room, erin_room, dave, bob
):
    await sync(services.add_blocked_term)(dave, None, "scamlink", "block")
    for room in (alice_room, erin_room):
        viewer = await open_socket(room, bob)
        await send_text(viewer, "free coins at scamlink", "1")
        assert (await viewer.expect("error"))["code"] == "message_blocked"


async def test_moderators_skip_the_filter(open_socket, alice_room, alice, carol):
    await sync(services.add_blocked_term)(alice, alice_room, "spoiler", "block")
    moderator = await open_socket(alice_room, carol)
    await send_text(moderator, "no spoiler talk please", "1")
    await moderator.expect("chat.message", nonce="1")


async def test_a_moderator_deletes_a_message_from_every_screen(open_socket, alice_room, bob, carol):
    sender = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    await send_text(sender, "rude", "1")
    message_id = (await sender.expect("chat.message"))["id"]
    moderator = await open_socket(alice_room, carol)
    await moderator.send({"type": "mod.delete", "id": message_id})
    assert (await moderator.expect("mod.done"))["id"] == message_id
    for client in (sender, watcher):
        await client.expect("chat.delete", id=message_id)
    late = await open_socket(alice_room)
    assert (await late.expect("chat.history"))["messages"] == []


async def test_clearing_chat_retracts_every_message(open_socket, alice_room, bob, carol):
    sender = await open_socket(alice_room, bob)
    ids = []
    for n in range(3):
        await send_text(sender, f"m{n}", str(n))
        ids.append((await sender.expect("chat.message", nonce=str(n)))["id"])
    moderator = await open_socket(alice_room, carol)
    await moderator.send({"type": "mod.clear"})
    await moderator.expect("mod.done", action="clear")
    for message_id in ids:
        await sender.expect("chat.delete", id=message_id)
    assert not await ChatMessage.objects.filter(deleted_at__isnull=True).aexists()


async def test_slow_mode_from_the_room(open_socket, alice_room, bob, carol):
    viewer = await open_socket(alice_room, bob)
    moderator = await open_socket(alice_room, carol)
    await moderator.send({"type": "mod.slow", "seconds": 30})
    assert (await viewer.expect("chat.slow_mode"))["seconds"] == 30


async def test_followers_only_chat(open_socket, alice_room, bob, carol):
    viewer = await open_socket(alice_room, bob)
    moderator = await open_socket(alice_room, carol)
    await moderator.send({"type": "mod.followers_only", "on": True})
    assert (await viewer.expect("chat.followers_only"))["on"] is True
    await send_text(viewer, "hi", "1")
    assert (await viewer.expect("error"))["code"] == "followers_only"
    await sync(rooms.follow_room)(bob, alice_room)
    await send_text(viewer, "hi", "2")
    await viewer.expect("chat.message", nonce="2")


async def test_a_viewer_cannot_use_the_moderator_tools(open_socket, alice_room, bob, frank):
    viewer = await open_socket(alice_room, bob)
    for frame in (
        {"type": "mod.ban", "user_id": frank.pk},
        {"type": "mod.timeout", "user_id": frank.pk, "minutes": 5},
        {"type": "mod.clear"},
        {"type": "mod.slow", "seconds": 10},
        {"type": "mod.followers_only", "on": True},
    ):
        await viewer.send(frame)
        assert (await viewer.expect("error"))["code"] == "not_allowed"


async def test_a_moderator_has_no_power_in_another_room(
    open_socket, alice_room, erin_room, bob, carol
):
    sender = await open_socket(alice_room, bob)
    await send_text(sender, "in alice's room", "1")
    message_id = (await sender.expect("chat.message"))["id"]
    elsewhere = await open_socket(erin_room, carol)
    await elsewhere.send({"type": "mod.timeout", "user_id": bob.pk, "minutes": 5})
    assert (await elsewhere.expect("error"))["code"] == "not_allowed"
    await elsewhere.send({"type": "mod.delete", "id": message_id})
    assert (await elsewhere.expect("error"))["code"] == "not_allowed"


async def test_moderator_frames_are_checked_like_any_other(open_socket, alice_room, carol):
    moderator = await open_socket(alice_room, carol)
    for frame in (
        {"type": "mod.timeout", "user_id": 2, "minutes": "10"},
        {"type": "mod.followers_only", "on": 1},
        {"type": "mod.ban"},
        {"type": "mod.delete", "id": "12x"},
    ):
        await moderator.send(frame)
        assert (await moderator.expect("error"))["code"] == "bad_field"
    await moderator.send({"type": "mod.timeout", "user_id": 999999, "minutes": 10})
    assert (await moderator.expect("error"))["code"] == "unknown_target"


async def test_a_held_message_is_stored_once_when_its_send_broke_off_and_the_nonce_is_resent(
    alice_room, alice, bob, monkeypatch
):
    """The database blips while the hold is written, after the message itself was stored;
    the sender's page resends the unacknowledged nonce. One message, never two."""
    from types import SimpleNamespace

    from django.db import OperationalError

    from chat import services as chat
    from chat.errors import ChatError

    await sync(services.add_blocked_term)(alice, alice_room, "idiot", "hold")
    real_hold = services.hold_message
    attempts = []

    def hold_after_a_blip(*args):
        attempts.append(args)
        if len(attempts) == 1:
            raise OperationalError(2013, "Lost connection to server during query")
        return real_hold(*args)

    monkeypatch.setattr("moderation.services.hold_message", hold_after_a_blip)
    session = await sync(chat.open_session)(bob, alice_room.slug)
    hub = SimpleNamespace(stream_id=None, slow_mode_seconds=0)
    with pytest.raises(OperationalError):
        await chat.send_message(session, hub, "you idiot", "h")
    with pytest.raises(ChatError):  # the page's resend is answered, whatever the answer
        await chat.send_message(session, hub, "you idiot", "h")
    assert await ChatMessage.objects.filter(user=bob).acount() == 1
