"""Every class of bad WebSocket frame at the room socket: the process and its rooms shrug.

Each case opens its own socket to a real daphne and writes frames byte for byte: invalid
UTF-8, binary, oversized, bad JSON, unknown types, wrong fields, JSON nesting bombs,
control-frame abuse and fragmented garbage. All cases run at once; each must end in the
answer its class deserves (an `error` frame, or the connection dropped), never a dead
or stuck process, while a signed-in viewer in the same room keeps chatting and has
every message acknowledged.
"""

import asyncio
import json
import struct
import urllib.request

import pytest

from tests.support.servers import daphne_server

from . import raw_websocket as ws
from .room_client import RoomClient

pytestmark = [pytest.mark.faults, pytest.mark.services, pytest.mark.django_db(transaction=True)]

BIG = "x" * 5000
TOO_LARGE = {"error": "too_large"}
CLOSE_1000 = struct.pack(">H", 1000)


# What must come back. An error frame (the socket stays open); for a protocol violation,
# a dropped connection (autobahn fails the connection by closing TCP: 1006 here);
# a close code of ours; an error or a close (ANSWERED); or, with nothing to answer yet,
# an open socket left to the ping and idle timeouts.
ANSWERED = {"error_or_close": True}
DROPPED = {"dropped": True}

# name, frames, what must come back.
CASES = [
    # invalid UTF-8
    ("invalid UTF-8 text", [ws.text(b'{"type": "ping", "x": "\xff\xfe"}')], DROPPED),
    ("overlong UTF-8 encoding", [ws.text(b'{"type": "\xc0\xaf"}')], DROPPED),
    ("lone surrogate", [ws.text(b'{"type": "\xed\xa0\x80"}')], DROPPED),
    (
        "invalid UTF-8 split across fragments",
        [ws.text(b'{"a": "\xe2\x82', fin=False), ws.frame(ws.CONTINUATION, b'\xff"}')],
        DROPPED,
    ),
    # binary frames
    ("binary frame", [ws.frame(ws.BINARY, b"\x00\x01\x02")], {"error": "bad_frame"}),
    ("binary JSON", [ws.frame(ws.BINARY, b'{"type": "ping"}')], {"error": "bad_frame"}),
    # oversized frames
    ("text over 4 KB", [ws.text(json.dumps({"type": "chat.send", "text": BIG}))], TOO_LARGE),
    ("1 MB text frame", [ws.text("x" * 1_000_000)], ANSWERED),
    ("header announcing 2^62 bytes", [ws.frame(ws.TEXT, b"{}", length=1 << 62)], DROPPED),
    # bad JSON and unknown types
    ("not JSON", [ws.text("hello")], {"error": "bad_frame"}),
    ("truncated JSON", [ws.text('{"type": "chat.se')], {"error": "bad_frame"}),
    ("JSON array", [ws.text("[1, 2]")], {"error": "bad_frame"}),
    ("JSON string", [ws.text('"ping"')], {"error": "bad_frame"}),
    ("NaN and Infinity", [ws.text('{"type": "like", "count": NaN}')], ANSWERED),
    ("nesting bomb", [ws.text("[" * 3000 + "]" * 3000)], ANSWERED),
    ("object nesting bomb", [ws.text('{"a":' * 1300 + "1" + "}" * 1300)], ANSWERED),
    ("empty text frame", [ws.text("")], {"error": "bad_frame"}),
    ("unknown type", [ws.text('{"type": "rm -rf"}')], {"error": "unknown_type"}),
    ("type not a string", [ws.text('{"type": ["chat.send"]}')], ANSWERED),
    ("missing type", [ws.text('{"text": "hi"}')], ANSWERED),
    ("wrong field type", [ws.text('{"type": "chat.send", "text": 12}')], {"error": "bad_field"}),
    ("huge number", [ws.text('{"type": "like", "count": 1' + "0" * 4000 + "}")], ANSWERED),
    ("resume with a bad id", [ws.text('{"type": "resume", "last_id": "-1e999"}')], ANSWERED),
    ("extra fields", [ws.text('{"type": "ping", "evil": {"__proto__": 1}}')], {"answer": "pong"}),
    ("duplicate keys", [ws.text('{"type": "ping", "type": "mod.clear"}')], ANSWERED),
    # control-frame abuse
    ("ping over 125 bytes", [ws.frame(ws.PING, b"p" * 200)], DROPPED),
    ("fragmented ping", [ws.frame(ws.PING, b"p", fin=False)], DROPPED),
    ("close with a 1-byte body", [ws.frame(ws.CLOSE, b"\x03")], DROPPED),
    ("close with an invalid code", [ws.frame(ws.CLOSE, struct.pack(">H", 999))], DROPPED),
    ("close with invalid UTF-8 reason", [ws.frame(ws.CLOSE, CLOSE_1000 + b"\xff")], DROPPED),
    ("unsolicited pong", [ws.frame(ws.PONG, b"surprise")], {"open": True}),
    ("ping flood", [ws.frame(ws.PING, b"x" * 125)] * 2000, {"open": True}),
    ("data frame flood", [ws.text('{"type": "ping"}')] * 200, {"close_code": 4429}),
    # fragmented garbage
    ("continuation without a start", [ws.frame(ws.CONTINUATION, b"garbage")], DROPPED),
    (
        "new message inside a fragmented one",
        [ws.text(b'{"type":', fin=False), ws.text(b'"ping"}')],
        DROPPED,
    ),
    (
        "ten thousand one-byte fragments",
        [ws.text(b"{", fin=False)] + [ws.frame(ws.CONTINUATION, b" ", fin=False)] * 10_000
        + [ws.frame(ws.CONTINUATION, b"}")],
        ANSWERED,
    ),
    ("fragments never finished", [ws.text(b'{"type":', fin=False)], {"open": True}),
    # frame-level violations
    ("unmasked client frame", [ws.text('{"type": "ping"}', masked=False)], DROPPED),
    ("reserved bits set", [ws.text('{"type": "ping"}', rsv=0b100)], DROPPED),
    ("reserved opcode", [ws.frame(0x3, b"??")], DROPPED),
    ("reserved control opcode", [ws.frame(0xB, b"??")], DROPPED),
    ("twenty bad frames", [ws.text("nope")] * 20, {"close_code": 4400}),
]  # fmt: skip


def answered(socket, expected: dict) -> bool:
    """Whether what this case waits for has come (a close always ends the wait)."""
    if "error" in expected:
        return expected["error"] in socket.error_codes()
    if "error_or_close" in expected:
        return bool(socket.error_codes())
    if "answer" in expected:
        return any(frame.get("type") == expected["answer"] for frame in socket.frames)
    return False  # "dropped", "close_code": only the close will do


def healthy(url: str) -> bool:
    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:  # noqa: S310
        return response.status == 200


def test_every_bad_frame_class_leaves_the_process_and_the_room_working(
    shared_services, alice_room, viewers
):
    outcomes = {}

    async def bad_client(url, name, frames, expected, cookie):
        socket = await ws.RawWebSocket.open(url, f"/ws/rooms/{alice_room.slug}/", cookie)
        await socket.read_until_quiet(quiet=0.3)  # hello, history, counts
        socket.frames.clear()
        await socket.send(*frames)
        if "open" in expected:  # nothing to wait for: give a wrong answer time to show
            await socket.read_until_quiet(quiet=1.0, limit=10)
        else:  # wait for the answer itself, however busy the machine is
            await socket.read_until(lambda socket: answered(socket, expected))
        outcomes[name] = (socket.error_codes(), socket.close_code, socket.frames)
        socket.close()

    async def scenario(url):
        viewer = RoomClient([url], alice_room.slug, viewers[0][1])
        await viewer.start()
        # Every case at once, each on its own socket, while the viewer chats.
        cases = asyncio.gather(
            *(
                bad_client(url, name, frames, expected, viewers[1 + n % 5][1])
                for n, (name, frames, expected) in enumerate(CASES)
            )
        )
        while not cases.done():
            await viewer.send_chat("still here")
            await asyncio.sleep(0.1)
        await cases
        await viewer.settle(timeout=10)
        await viewer.close()
        return viewer

    with daphne_server({"CHAT_RATE_PER_MINUTE": "6000", "CHAT_RATE_BURST": "100"}) as server:
        viewer = asyncio.run(scenario(server.url))
        assert server.process.poll() is None and healthy(server.url)
        log = server.log.read_text(errors="replace")

    for name, (errors, close, _frames) in outcomes.items():
        print(f"{name}: errors {errors[:2]}, close {close}")
    # The healthy viewer chatted throughout, and everything it sent was acknowledged.
    assert len(viewer.acked_messages) >= 10 and viewer.unacknowledged == 0
    failures = []
    for name, _frames, expected in CASES:
        errors, close, frames = outcomes[name]
        if "error" in expected:  # answered with this error, the socket stays usable
            ok = expected["error"] in errors and close is None
        elif "dropped" in expected:  # a protocol violation: the server hangs up
            ok = close is not None
        elif "close_code" in expected:
            ok = close == expected["close_code"]
        elif "error_or_close" in expected:
            ok = bool(errors) or close is not None
        elif "answer" in expected:
            ok = any(frame.get("type") == expected["answer"] for frame in frames)
        else:  # "open": nothing to answer yet; the socket is left to its timeouts
            ok = close is None
        if not ok:
            failures.append((name, expected, outcomes[name]))
    assert failures == []
    assert "Traceback" not in log, log[-3000:]
