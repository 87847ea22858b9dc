"""`resume` is bounded: a few per socket a minute, and older history only for signed-in users.

Before, an anonymous socket could `resume` from id 0 over and over: 500 rows and about
195 KB a call, each a database read.
"""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def send_messages(socket, count: int) -> list[str]:
    ids = []
    for n in range(count):
        await socket.send({"type": "chat.send", "text": f"m{n}", "nonce": f"{n}"})
        ids.append((await socket.expect("chat.message", nonce=f"{n}"))["id"])
    return ids


async def test_resume_is_rate_limited_per_socket(open_socket, alice_room, bob, settings):
    settings.CHAT_RESUMES_PER_MINUTE = 1  # no refill while the test runs
    sender = await open_socket(alice_room, bob)
    last = (await send_messages(sender, 1))[0]
    for _ in range(3):  # the burst a reconnecting client may need
        await sender.send({"type": "resume", "last_id": last})
    await sender.send({"type": "resume", "last_id": last})
    error = await sender.expect("error")
    assert error["code"] == "resume_rate_limited"
    assert error["retry_after"] > 0
    # Another socket has its own allowance.
    other = await open_socket(alice_room, bob)
    await other.expect("chat.history")
    await other.send({"type": "resume", "last_id": last})
    assert (await other.expect("chat.history"))["messages"] == []


async def test_anonymous_viewers_resume_only_within_the_recent_messages(
    open_socket, alice_room, bob, settings
):
    settings.CHAT_HISTORY_ON_JOIN = 2
    settings.CHAT_RATE_BURST = 100
    sender = await open_socket(alice_room, bob)
    ids = await send_messages(sender, 5)
    anonymous = await open_socket(alice_room)
    await anonymous.expect("chat.history")
    # Within what the room holds in memory: answered.
    await anonymous.send({"type": "resume", "last_id": ids[3]})
    assert [m["text"] for m in (await anonymous.expect("chat.history"))["messages"]] == ["m4"]
    # Older, from the database: sign in first.
    await anonymous.send({"type": "resume", "last_id": "0"})
    error = await anonymous.expect("error")
    assert error["code"] == "sign_in_required"
    assert "Sign in" in error["message"]
    # A signed-in viewer gets it.
    await sender.send({"type": "resume", "last_id": ids[0]})
    history = await sender.expect("chat.history")
    while not history["messages"]:  # the join history (empty) comes first
        history = await sender.expect("chat.history")
    assert [m["text"] for m in history["messages"]] == ["m1", "m2", "m3", "m4"]
