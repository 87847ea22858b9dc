"""Hostile and malformed frames: an error frame or a documented close; the room keeps going."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from chat.protocol import CLOSE_FLOOD, CLOSE_TOO_MANY_BAD_FRAMES, ProtocolError, parse_client_frame

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('"chat.send"', "bad_frame"),
        ("{}", "unknown_type"),
        ('{"type": "chat.explode"}', "unknown_type"),
        ('{"type": 42}', "unknown_type"),
        ('{"type": "chat.send"}', "bad_field"),
        ('{"type": "chat.send", "text": 5}', "bad_field"),
        ('{"type": "chat.send", "text": ["a"]}', "bad_field"),
        ('{"type": "like", "count": "10"}', "bad_field"),
        ('{"type": "like", "count": true}', "bad_field"),
        ('{"type": "resume", "last_id": 12}', "bad_field"),
        ('{"type": "chat.send", "text": "x", "nonce": "' + "n" * 65 + '"}', "bad_field"),
        ("[" * 5000, "too_large"),
        ('{"type": "chat.send", "text": "' + "é" * 2100 + '"}', "too_large"),
        (None, "bad_frame"),
    ],
)
def test_the_parser_names_what_is_wrong(frame, code):
    with pytest.raises(ProtocolError) as error:
        parse_client_frame(frame)
    assert error.value.code == code


def test_deep_nesting_under_the_size_limit_is_refused_not_crashing():
    with pytest.raises(ProtocolError):
        parse_client_frame("[" * 4000 + "]" * 4)


async def test_bad_frames_get_error_frames_and_the_room_keeps_working(open_socket, alice_room, bob):
    sender = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    for frame in ["not json", '{"type":"nope"}', '{"type":"like","count":"x"}', "x" * 5000]:
        await sender.send(frame)
        assert (await sender.expect("error"))["code"] in {
            "bad_frame",
            "unknown_type",
            "bad_field",
            "too_large",
        }
    await sender.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await sender.expect("error"))["code"] == "bad_frame"
    await sender.send({"type": "chat.send", "text": "still here", "nonce": "ok"})
    assert (await watcher.expect("chat.message"))["text"] == "still here"


@pytest.mark.parametrize("text", ["", "   ", "x" * 301, "bell\x07"])
async def test_bad_messages_are_refused_and_not_stored(open_socket, alice_room, bob, text):
    from channels.db import database_sync_to_async

    from chat.models import ChatMessage

    sender = await open_socket(alice_room, bob)
    await sender.send({"type": "chat.send", "text": text, "nonce": "n"})
    assert (await sender.expect("error"))["code"] == "invalid_message"
    assert not await database_sync_to_async(ChatMessage.objects.exists)()


async def test_300_characters_of_emoji_are_fine(open_socket, alice_room, bob):
    sender = await open_socket(alice_room, bob)
    text = "🔥" * 300
    await sender.send({"type": "chat.send", "text": text, "nonce": "n"})
    assert (await sender.expect("chat.message"))["text"] == text


async def test_html_is_carried_as_text_never_markup(open_socket, alice_room, bob):
    sender = await open_socket(alice_room, bob)
    text = "<img src=x onerror=alert(1)>"
    await sender.send({"type": "chat.send", "text": text, "nonce": "n"})
    assert (await sender.expect("chat.message"))["text"] == text  # the page sets textContent


async def test_too_many_bad_frames_close_the_socket(open_socket, alice_room, bob):
    sender = await open_socket(alice_room, bob)
    for _ in range(20):
        await sender.communicator.send_to(text_data="garbage")
    output = None
    while output is None or output["type"] != "websocket.close":
        output = await sender.communicator.receive_output(5)
    assert output["code"] == CLOSE_TOO_MANY_BAD_FRAMES


@override_settings(CHAT_FRAMES_PER_SECOND=5)
async def test_a_flood_closes_the_socket_with_its_code_and_others_stay(
    open_socket, alice_room, bob
):
    flooder = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    for _ in range(30):
        await flooder.communicator.send_to(text_data=json.dumps({"type": "ping"}))
    output = None
    while output is None or output["type"] != "websocket.close":
        output = await flooder.communicator.receive_output(5)
    assert output["code"] == CLOSE_FLOOD
    await watcher.send({"type": "ping"})
    assert await watcher.expect("pong")


async def test_a_socket_from_a_foreign_origin_is_refused(alice_room):
    from livesite.asgi import application

    evil = WebsocketCommunicator(
        application, f"/ws/rooms/{alice_room.slug}/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await evil.connect(5)
    assert not connected

    ours = WebsocketCommunicator(
        application, f"/ws/rooms/{alice_room.slug}/", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await ours.connect(5)
    assert connected
    await ours.disconnect()
