"""One room over four daphne processes behind the shipped deploy/nginx-web-cluster.conf.

A private nginx runs the repository's own file, with only its listen port and the
upstream's server lines changed (and, for the test's eyes only, a header naming the
process that took each socket). Eight viewers (four of them chatting) connect through
it and land on all four processes; every message must reach every viewer once, in the
order its sender sent it, and every process must report the same head count. Then one
process is killed with SIGKILL: its viewers reconnect through nginx to the others,
resume, and must miss nothing that was said meanwhile. One exception to the order, by
design of the nonce claims: the killed process's own sender may see a message that was
in flight at the kill stored after its next ones (see
`assert_everyone_saw_everything_once_in_order`).
"""

import asyncio
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from contextlib import ExitStack, contextmanager

import pytest
from django.conf import settings

from conftest import need_service
from tests.support.servers import daphne_server, free_port, stop_process

from .conftest import LOAD_ENV
from .room_client import RoomClient

pytestmark = [pytest.mark.faults, pytest.mark.services, pytest.mark.django_db(transaction=True)]

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
PROCESSES = 4
# A killed process's snapshot drops out of the head count after this many seconds.
CLUSTER_ENV = {**LOAD_ENV, "CHAT_PRESENCE_TTL": "3"}


def cluster_config(folder, listen_port: int, upstreams: list[str]) -> str:
    shipped = (settings.BASE_DIR / "deploy" / "nginx-web-cluster.conf").read_text()
    servers = "".join(
        f"    server {url.removeprefix('http://')} max_fails=1 fail_timeout=5s;\n"
        for url in upstreams
    )
    site, replaced = re.subn(r"(    server 127\.0\.0\.1:800\d [^\n]*\n)+", servers, shipped)
    assert replaced == 1, "the shipped upstream block changed shape"
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    # Which process took each socket: the test's own header, not the shipped file's.
    site = site.replace(
        "proxy_buffering off;",
        "proxy_buffering off;\n        add_header X-Upstream $upstream_addr always;",
    )
    temp = folder / "temp"
    return f"""
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""


@contextmanager
def nginx_in_front(folder, upstreams: list[str]):
    need_service("nginx", bool(NGINX), "the web processes sit behind it")
    (folder / "temp").mkdir()
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(cluster_config(folder, port, upstreams))
    command = [NGINX, "-c", str(config), "-p", str(folder), "-g", "daemon off; master_process off;"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class ClusterViewer(RoomClient):
    """A RoomClient that also keeps every frame it saw, and which process served it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        # (socket number, id) of chat.message frames pushed to this viewer, except the
        # acknowledgements of its own messages (a resent nonce is answered again, on
        # purpose). A new socket may be pushed a message its join history already held
        # (it was in flight as the socket joined): the page skips ids it shows
        # (static/js/room/chat.js), so only one socket's frames must be unique.
        self.live: list[tuple[int, str]] = []
        self._reading_history = False
        self.shown: list[tuple[str, str, str]] = []  # (id, sender, text), as the page shows
        self.upstreams: list[str] = []
        self.head_count: int | None = None

    async def _connect(self) -> None:
        await super()._connect()
        if self._socket is not None and not self._stopping:
            # "dead:port, live:port" when nginx had to try a second process.
            tried = self._socket.response.headers.get("X-Upstream", "?")
            self.upstreams.append(tried.split(", ")[-1])

    def _receive(self, event: dict) -> None:
        kind = event["type"]
        own = event.get("nonce") in {**self._unacked_messages, **self.acked_messages}
        if kind == "chat.message" and not own and not self._reading_history:
            self.live.append((len(self.upstreams), event["id"]))
        messages = event["messages"] if kind == "chat.history" else [event]
        shown = {shown_id for shown_id, _sender, _text in self.shown}
        for message in messages:
            # The page skips ids it already shows (a join's history overlaps a resume's).
            if message.get("type") == "chat.message" and message["id"] not in shown:
                shown.add(message["id"])
                self.shown.append((message["id"], message["user"]["name"], message["text"]))
        if kind == "presence.count":
            self.head_count = event["viewers"]
        # RoomClient hands each message of a history back to _receive: not a live frame.
        outer = self._reading_history
        self._reading_history = outer or kind == "chat.history"
        try:
            super()._receive(event)
        finally:
            self._reading_history = outer


def describe(client: ClusterViewer) -> str:
    return (
        f"viewer on {client.upstreams} ({client.closed_sockets} dropped): "
        f"{len(client.shown)} shown, {client.unacknowledged} unacknowledged"
    )


async def wait_until(clients, condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition(clients):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}: " + "; ".join(map(describe, clients)))
        await asyncio.sleep(0.05)


def head_counts_agree(clients) -> bool:
    """Every viewer's latest presence.count is the number of sockets in the room."""
    return all(client.head_count == len(clients) for client in clients)


def everyone_shows(count: int):
    return lambda clients: all(len(client.shown) == count for client in clients)


async def chat(senders: list[ClusterViewer], round_name: str, count: int) -> None:
    async def one(sender):
        for n in range(count):
            await sender.send_chat(f"{round_name} {n}")
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one(sender) for sender in senders))
    await asyncio.gather(*(sender.settle(timeout=10) for sender in senders))


def assert_everyone_saw_everything_once_in_order(viewers, senders, unordered=()) -> None:
    """Every acknowledged message shown once by every viewer, each sender's in sending order.

    `unordered` names senders whose process was killed: a message of theirs in flight
    when it died is stored by its resend only once the dead process's nonce claim is
    orphaned (chat.services.NONCE_ORPHAN_SECONDS, 3 s), so it may come after the
    sender's next messages. It still arrives, once.
    """
    said = {message_id for sender in senders for message_id in sender.acked_messages.values()}
    for viewer in viewers:
        assert max(Counter(viewer.live).values()) == 1  # no socket pushed a frame twice
        assert {message_id for message_id, _s, _t in viewer.shown} == said
        for sender in {sender for _id, sender, _text in viewer.shown} - set(unordered):
            texts = [text for _id, name, text in viewer.shown if name == sender]
            in_order = sorted(texts, key=lambda t: (t.startswith("after"), int(t.split()[1])))
            assert texts == in_order, f"{sender} as {describe(viewer)} saw it"


def test_one_room_over_four_processes_behind_nginx(shared_services, alice_room, viewers, tmp_path):
    async def scenario(front, processes):
        cookies = [cookie for _user, cookie in viewers[:4]] + [None] * 4
        clients = [ClusterViewer([front], alice_room.slug, cookie) for cookie in cookies]
        for client in clients:
            await client.start()
        senders = clients[:4]
        # least_conn spreads the eight sockets over all four processes, two each.
        first_upstreams = Counter(client.upstreams[0] for client in clients)
        assert sorted(first_upstreams.values()) == [2, 2, 2, 2]

        await wait_until(clients, head_counts_agree, 10, "the head counts")
        await chat(senders, "before", 15)
        await wait_until(clients, everyone_shows(60), 10, "every message everywhere")
        assert_everyone_saw_everything_once_in_order(clients, senders)

        # Kill the process that serves the first anonymous viewer, mid-conversation.
        doomed_address = clients[4].upstreams[0]
        doomed = next(p for p in processes if p.url.endswith(doomed_address))
        moved = [c for c in clients if c.upstreams[0] == doomed_address]
        talk = asyncio.create_task(chat(senders, "after", 15))
        await asyncio.sleep(0.3)  # the scenario's timeline: chat under way, then the kill
        os.kill(doomed.process.pid, signal.SIGKILL)
        await talk
        await wait_until(clients, everyone_shows(120), 15, "the missed messages")
        moved_ids = {
            message_id for client in moved for message_id in client.acked_messages.values()
        }
        moved_senders = {
            name for message_id, name, _text in clients[0].shown if message_id in moved_ids
        }
        assert_everyone_saw_everything_once_in_order(clients, senders, moved_senders)
        for client in moved:
            assert client.closed_sockets == 1
            assert client.upstreams[-1] != doomed_address  # nginx sent it to a live process
        # The killed process's snapshot expires (CHAT_PRESENCE_TTL): no one is counted twice.
        await wait_until(clients, head_counts_agree, 15, "the head counts after the kill")
        for client in clients:
            await client.close()

    with ExitStack() as stack:
        processes = [stack.enter_context(daphne_server(CLUSTER_ENV)) for _ in range(PROCESSES)]
        front = stack.enter_context(nginx_in_front(tmp_path, [p.url for p in processes]))
        asyncio.run(scenario(front, processes))
