"""A publisher that can reach the ingest only through a TURN relay (coturn) still goes live.

A private `turnserver` (Debian's coturn) runs on the test's own ports with a static user;
the site offers it in its `Link` headers and uses it for its own peers, and narrows its
host candidates to WEBRTC_UDP_PORTS. The aiortc publisher reads the ICE servers from the
`Link` header and gathers relay candidates only (iceTransportPolicy "relay"), so every
media packet it sends goes through coturn.
"""

import re
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
from aioice import stun
from aioice.ice import get_host_addresses

from conftest import need_service
from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import serve_process, wait_for
from streaming.tests.whip_client import WhipPublisher, http, ice_servers_from_links
from tests.support.servers import stop_process

pytestmark = [pytest.mark.media, pytest.mark.django_db(transaction=True)]

TURN_PORT = 22478
RELAY_PORTS = range(22500, 22600)
INGEST_UDP_PORTS = range(22100, 22200)
TURN_USER, TURN_SECRET = "live", "turn-test-secret"


def candidates(sdp: str) -> list[tuple[str, int, str]]:
    """(address, port, type) of each candidate in an SDP."""
    lines = [line.split() for line in sdp.splitlines() if line.startswith("a=candidate:")]
    return [(words[4], int(words[5]), words[7]) for words in lines]


def turn_answers(address: str) -> bool:
    """A STUN binding request to the TURN port gets a response."""
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        probe.sendto(bytes(request), (address, TURN_PORT))
        try:
            return bool(probe.recv(1500))
        except OSError:
            return False


@contextmanager
def private_turnserver(folder, address: str):
    need_service("coturn", shutil.which("turnserver") is not None,
                 "install the Debian package coturn")  # fmt: skip
    log = folder / "turnserver.log"
    command = [
        "turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls",
        "--listening-ip", address, "--relay-ip", address,
        "--listening-port", str(TURN_PORT),
        "--min-port", str(RELAY_PORTS[0]), "--max-port", str(RELAY_PORTS[-1]),
        "--lt-cred-mech", "--user", f"{TURN_USER}:{TURN_SECRET}", "--realm", "livesite.test",
        "--userdb", str(folder / "turndb"), "--pidfile", str(folder / "turnserver.pid"),
        "--log-file", "stdout", "--simple-log", "--verbose",
    ]  # fmt: skip
    with log.open("w") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not turn_answers(address):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("turnserver did not start:\n" + log.read_text()[-2000:])
        yield log
    finally:
        stop_process(process, timeout=10)


def test_a_publisher_through_a_turn_relay_goes_live(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    # The machine's own address: aioice gathers no host candidate on loopback.
    address = get_host_addresses(use_ipv4=True, use_ipv6=False)[0]
    env = {
        "WEBRTC_ICE_SERVERS": f"turn:{address}:{TURN_PORT}?transport=udp",
        "WEBRTC_TURN_USERNAME": TURN_USER,
        "WEBRTC_TURN_CREDENTIAL": TURN_SECRET,
        "WEBRTC_UDP_PORTS": f"{INGEST_UDP_PORTS[0]}-{INGEST_UDP_PORTS[-1]}",
    }
    with private_turnserver(tmp_path, address) as turn_log, serve_process(tmp_path, env) as site:
        preflight = http("OPTIONS", site.web_url + "/whip/")
        servers = ice_servers_from_links(preflight.headers["Link"])
        assert [(s.urls, s.username, s.credential) for s in servers] == [
            (env["WEBRTC_ICE_SERVERS"], TURN_USER, TURN_SECRET)
        ]
        publisher = WhipPublisher(site.web_url + "/whip/", key, ice_servers=servers,
                                  relay_only=True)  # fmt: skip
        try:
            response = publisher.start()
            assert response.status == 201, response.body
            assert ice_servers_from_links(response.headers["Link"])[0].urls == servers[0].urls
            offered = candidates(publisher.pc.localDescription.sdp)
            # The publisher can be reached only on coturn's relay ports.
            assert offered and all(kind == "relay" for _, _, kind in offered), offered
            assert all(port in RELAY_PORTS for _, port, _ in offered), offered
            answered = candidates(response.body)
            # The ingest used the TURN server too, and bound its host sockets in the range.
            assert any(kind == "relay" for _, _, kind in answered), answered
            host_ports = [port for _, port, kind in answered if kind == "host"]
            assert host_ports and all(port in INGEST_UDP_PORTS for port in host_ports), answered

            wait_for(lambda: publisher.connection_state == "connected", timeout=20)
            wait_for(lambda: room_status(alice_room) == "live", timeout=15)
            source = site.hls_root / alice_room.slug / "source"
            wait_for(lambda: len(list(source.glob("seg_*"))) >= 2, timeout=40)
            assert publisher.delete(site.web_url).status == 200
            wait_for(lambda: room_status(alice_room) == "ended", timeout=20)
        finally:
            publisher.close()
    # coturn logs each allocation's traffic as it ends. The publisher's media leaves its
    # relay towards a peer (sb), whichever candidate of the ingest the pair ended on.
    sent = re.findall(r"peer usage: .*, sb=(\d+)", turn_log.read_text())
    assert sum(int(relayed) for relayed in sent) > 20_000, sent


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)
