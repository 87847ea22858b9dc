"""A room-socket client that behaves as `static/js/room/socket.js` does after a fault.

It keeps what the server acknowledged (a chat message's own `chat.message` with its
nonce, a gift's `gift.sent` with its idempotency key), resends what was not
acknowledged after a reconnect with the same nonce or key, and asks `resume` for the
messages it missed. On a dropped socket it moves to the next web process in its list,
as a load balancer would, so the fault tests can check what survived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field

import websockets


@dataclass
class RoomClient:
    base_urls: list[str]
    slug: str
    cookie: str | None = None
    acked_messages: dict[str, str] = field(default_factory=dict)  # nonce -> message id
    acked_gifts: dict[str, dict] = field(default_factory=dict)  # idempotency key -> receipt
    gift_errors: list[dict] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    connections: list[str] = field(default_factory=list)  # base URL of every (re)connection
    closed_sockets: int = 0
    ack_times: list[float] = field(default_factory=list)  # loop time of each acknowledgement

    def __post_init__(self) -> None:
        self._unacked_messages: dict[str, str] = {}
        self._unacked_gifts: dict[str, tuple[str, int]] = {}
        self._socket = None
        self._reader: asyncio.Task | None = None
        self._stopping = False
        self._next_url = 0
        self.last_id: str | None = None
        self.connected_at = 0.0  # loop time of the latest (re)connection

    # --- what a test does ---------------------------------------------------------
    async def start(self) -> None:
        await self._connect()

    async def send_chat(self, text: str, nonce: str | None = None) -> str:
        nonce = nonce or uuid.uuid4().hex
        self._unacked_messages[nonce] = text
        await self._send({"type": "chat.send", "text": text, "nonce": nonce})
        return nonce

    async def send_gift(self, gift: str, quantity: int = 1) -> str:
        key = uuid.uuid4().hex
        self._unacked_gifts[key] = (gift, quantity)
        await self._send_gift(key)
        return key

    async def resend_unacknowledged(self) -> None:
        for nonce, text in list(self._unacked_messages.items()):
            await self._send({"type": "chat.send", "text": text, "nonce": nonce})
        for key in list(self._unacked_gifts):
            await self._send_gift(key)

    @property
    def unacknowledged(self) -> int:
        return len(self._unacked_messages) + len(self._unacked_gifts)

    async def settle(self, timeout: float) -> None:
        """Resend until everything sent is acknowledged, or `timeout` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        resend_at = loop.time() + 1
        while self.unacknowledged and loop.time() < deadline:
            if loop.time() >= resend_at:
                await self.resend_unacknowledged()
                resend_at = loop.time() + 1
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self._stopping = True
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()

    # --- the connection -----------------------------------------------------------
    async def _connect(self) -> None:
        while not self._stopping:
            base = self.base_urls[self._next_url % len(self.base_urls)]
            try:
                self._socket = await websockets.connect(
                    base.replace("http", "ws", 1) + f"/ws/rooms/{self.slug}/",
                    origin=base,
                    additional_headers={"Cookie": self.cookie} if self.cookie else {},
                    open_timeout=5,
                )
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                self._next_url += 1  # that process is gone: try the next one
                await asyncio.sleep(0.2)
                continue
            self.connections.append(base)
            self.connected_at = asyncio.get_running_loop().time()
            self._reader = asyncio.create_task(self._read(self._socket))
            if self.last_id is not None:
                await self._send({"type": "resume", "last_id": self.last_id})
            await self.resend_unacknowledged()
            return

    async def _send(self, frame: dict) -> None:
        # On a closed socket the reader reconnects; unacknowledged frames are sent again then.
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._socket.send(json.dumps(frame))

    async def _send_gift(self, key: str) -> None:
        gift, quantity = self._unacked_gifts[key]
        frame = {"type": "gift.send", "gift": gift, "quantity": quantity, "idempotency_key": key}
        await self._send(frame)

    async def _read(self, socket) -> None:
        try:
            async for raw in socket:
                frame = json.loads(raw)
                for event in frame["events"] if frame["type"] == "batch" else [frame]:
                    self._receive(event)
        except websockets.ConnectionClosed:
            pass
        if not self._stopping:
            self.closed_sockets += 1
            self._next_url += 1
            await self._connect()

    def _receive(self, event: dict) -> None:
        kind = event["type"]
        if kind == "chat.history":
            for message in event["messages"]:
                self._receive(message)
        elif kind == "chat.message":
            self.seen_ids.add(event["id"])
            if self.last_id is None or int(event["id"]) > int(self.last_id):
                self.last_id = event["id"]
            if event.get("nonce") in self._unacked_messages:
                del self._unacked_messages[event["nonce"]]
                self.acked_messages[event["nonce"]] = event["id"]
                self.ack_times.append(asyncio.get_running_loop().time())
        elif kind == "gift.sent":
            key = event["idempotency_key"]
            self._unacked_gifts.pop(key, None)
            self.acked_gifts[key] = event
            self.ack_times.append(asyncio.get_running_loop().time())
        elif kind == "error" and event.get("for") == "gift.send":
            self.gift_errors.append(event)
