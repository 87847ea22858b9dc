"""A WebSocket keeps none of daphne's upgrade request and a light input queue
(realtime/lean_socket.py); frames still arrive in order."""

import asyncio
from types import SimpleNamespace

import pytest
from twisted.internet.testing import StringTransport
from twisted.web.http import HTTPChannel

from realtime.lean_socket import InputQueue, lighten_input_queue, release_handshake


def test_an_upgraded_socket_lets_go_of_its_http_request():
    transport = StringTransport()
    transport.registerProducer(HTTPChannel(), True)
    release_handshake(SimpleNamespace(transport=transport))
    assert transport.producer is None


def test_a_transport_with_another_producer_keeps_it():
    transport = StringTransport()
    producer = object()
    transport.registerProducer(producer, True)
    release_handshake(SimpleNamespace(transport=transport))
    assert transport.producer is producer


async def test_frames_daphne_queued_before_the_swap_are_read_first_and_in_order():
    daphne_queue = asyncio.Queue()
    protocol = SimpleNamespace(application_queue=daphne_queue)
    daphne_queue.put_nowait({"type": "websocket.connect"})
    daphne_queue.put_nowait({"type": "websocket.receive", "text": "1"})

    receive = lighten_input_queue(protocol, daphne_queue.get)
    assert isinstance(protocol.application_queue, InputQueue)
    protocol.application_queue.put_nowait({"type": "websocket.receive", "text": "2"})

    assert [(await receive()).get("text") for _ in range(3)] == [None, "1", "2"]


async def test_a_receive_that_is_not_the_protocols_queue_is_left_alone():
    daphne_queue = asyncio.Queue()
    protocol = SimpleNamespace(application_queue=daphne_queue)

    async def receive():
        return {}

    assert lighten_input_queue(protocol, receive) is receive
    assert protocol.application_queue is daphne_queue


async def test_a_waiting_reader_wakes_on_the_next_frame():
    queue = InputQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not reader.done()
    queue.put_nowait("frame")
    assert await asyncio.wait_for(reader, 1) == "frame"
    assert queue.qsize() == 0


async def test_a_cancelled_reader_leaves_the_queue_usable():
    queue = InputQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    queue.put_nowait("after")
    assert await asyncio.wait_for(queue.get(), 1) == "after"


async def test_a_second_waiting_reader_is_refused():
    queue = InputQueue()
    first = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await queue.get()
    queue.put_nowait("frame")
    assert await asyncio.wait_for(first, 1) == "frame"


def test_an_accepted_socket_forgets_its_handshake_headers():
    from realtime.lean_socket import forget_handshake_headers

    headers = {"cookie": "sessionid=abc", "user-agent": "Mozilla/5.0"}
    scope_headers = [[b"cookie", b"sessionid=abc"], [b"user-agent", b"Mozilla/5.0"]]
    scope = {"headers": scope_headers}
    request = SimpleNamespace(headers=headers, path="/ws/rooms/alice/")
    protocol = SimpleNamespace(
        http_request_data=b"GET /ws/rooms/alice/ HTTP/1.1\r\nCookie: sessionid=abc\r\n\r\n",
        http_headers=headers,
        clean_headers=scope_headers,
        request=request,
    )
    forget_handshake_headers(protocol)
    assert protocol.http_request_data == b""
    assert request.headers == {} and scope["headers"] == []
    assert request.path == "/ws/rooms/alice/"  # daphne logs the path when the socket closes
