"""Host candidates on UDP ports of one range (WEBRTC_UDP_PORTS), for a firewall to open.

aioice binds each host candidate's socket to port 0, so the kernel picks any port of its
ephemeral range (32768-60999 on Linux), and aioice has no option to narrow it: the issue
asking for one (aiortc/aioice#47) is open and its pull requests (#63, #112) are not
merged. aiortc builds its aioice `Connection` through a module-level name, as it does its
decoder worker (see encoded_frames.py), so we point that name at a subclass that binds
the host sockets to a free port of the range itself. Server-reflexive (STUN) and relayed
(TURN) candidates and every connectivity check stay aioice's own; a TURN allocation's
socket is a client socket to the TURN server, whose ports a stateful firewall lets back.

The range is the process's (`restrict_udp_ports`): the ingest sets it once at start, and
with none set, aioice binds as it always did.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket

import aioice
from aioice import ice as aioice_ice
from aioice import turn as aioice_turn
from aioice.candidate import Candidate, candidate_foundation, candidate_priority
from aiortc import rtcicetransport

logger = logging.getLogger("livesite.webrtc")

_ports: range | None = None


def restrict_udp_ports(ports: tuple[int, int] | None) -> None:
    """Bind host candidates of every later ICE connection in this process to ports
    `min..max` (inclusive), or to any port again with `None`."""
    global _ports
    _ports = range(ports[0], ports[1] + 1) if ports else None


async def _bind_in_range(connection, address: str, ports: range):
    """A StunProtocol bound to `address` on a free port of `ports`, or None if none is free."""
    loop = asyncio.get_running_loop()
    # Start at a random port: sessions starting together do not race for the same one.
    start = random.randrange(len(ports))
    for index in range(len(ports)):
        port = ports[(start + index) % len(ports)]
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: aioice_ice.StunProtocol(connection), local_addr=(address, port)
            )
        except OSError:
            continue  # taken (by another session, or another program)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, aioice_turn.UDP_SOCKET_BUFFER_SIZE)
        return protocol
    logger.warning("no free UDP port in %d-%d on %s for a host candidate",
                   ports[0], ports[-1], address)  # fmt: skip
    return None


class PortRangeConnection(aioice.Connection):
    """aioice's Connection, with its host sockets bound in the configured range."""

    async def get_component_candidates(self, component, addresses, timeout=5):
        ports = _ports
        if ports is None:
            return await super().get_component_candidates(component, addresses, timeout)
        host_protocols = []
        for address in addresses:
            protocol = await _bind_in_range(self, address, ports)
            if protocol is None:
                continue
            host, port = protocol.transport.get_extra_info("sockname")[:2]
            protocol.local_candidate = Candidate(
                foundation=candidate_foundation("host", "udp", host),
                component=component,
                transport="udp",
                priority=candidate_priority(component, "host"),
                host=host,
                port=port,
                type="host",
            )
            host_protocols.append(protocol)
        self._protocols += host_protocols
        candidates = [protocol.local_candidate for protocol in host_protocols]
        candidates += await self._server_reflexive(host_protocols, timeout)
        # No addresses: aioice then gathers only the relayed candidate, if a TURN server is set.
        candidates += await super().get_component_candidates(component, [], timeout)
        return candidates

    async def _server_reflexive(self, host_protocols, timeout) -> list:
        if not self.stun_server:
            return []
        tasks = [
            asyncio.create_task(aioice_ice.server_reflexive_candidate(protocol, self.stun_server))
            for protocol in host_protocols
            if ipaddress.ip_address(protocol.local_candidate.host).version == 4
        ]
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        return [task.result()[0] for task in done if task.exception() is None]


if rtcicetransport.Connection is aioice.Connection:
    rtcicetransport.Connection = PortRangeConnection
