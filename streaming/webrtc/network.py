"""ICE for the ingest's WebRTC peers: servers offered to clients, the public address.

By default a peer offers only host candidates (the machine's own addresses), which is
right when the ingest has a public address or everyone is on one network. Behind a 1:1
NAT (a cloud instance with an elastic address) `public_address` adds, for each host
candidate in our answer, the same candidate on the public address, as mediasoup's
"announced address" does; aioice keeps answering on the private socket the NAT
forwards to. `udp_ports` narrows the host candidates' ports to a range a firewall
can open (udp_ports.py). STUN/TURN servers are used by aiortc for our own candidates and offered
to clients in `Link` headers (RFC 9725 section 4.6).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import RTCConfiguration, RTCIceServer


@dataclass(frozen=True)
class IceSettings:
    servers: tuple[str, ...] = ()  # "stun:host:3478", "turn:host:3478?transport=udp"
    username: str = ""
    credential: str = ""
    public_address: str = ""
    connect_timeout: float = 10.0
    udp_ports: tuple[int, int] | None = None  # host candidates' ports (udp_ports.py)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_django(cls) -> IceSettings:
        """The site's ICE settings (streaming/conf.py); the rest of this package is handed
        an IceSettings and imports nothing of Django."""
        from streaming import conf

        return cls(
            servers=conf.webrtc_ice_servers(),
            username=conf.webrtc_turn_username(),
            credential=conf.webrtc_turn_credential(),
            public_address=conf.webrtc_public_address(),
            connect_timeout=conf.webrtc_connect_timeout(),
            udp_ports=conf.webrtc_udp_ports(),
        )

    def configuration(self) -> RTCConfiguration:
        # An explicit empty list: aiortc's default is a public Google STUN server.
        return RTCConfiguration(iceServers=[self._server(url) for url in self.servers])

    def _server(self, url: str) -> RTCIceServer:
        if url.startswith("turn"):
            return RTCIceServer(urls=url, username=self.username, credential=self.credential)
        return RTCIceServer(urls=url)

    def link_headers(self) -> list[str]:
        links = []
        for url in self.servers:
            link = f'<{url}>; rel="ice-server"'
            if url.startswith("turn") and self.username:
                link += f'; username="{self.username}"; credential="{self.credential}"'
                link += '; credential-type="password"'
            links.append(link)
        return links


def announce_public_address(sdp: str, public_address: str) -> str:
    """The answer with a copy of each host candidate on `public_address`."""
    if not public_address:
        return sdp
    lines = []
    for line in sdp.splitlines():
        lines.append(line)
        words = line.split()
        if line.startswith("a=candidate:") and "host" in words and len(words) > 5:
            public = list(words)
            public[0] = f"a=candidate:{words[0][12:]}p"
            public[4] = public_address
            lines.append(" ".join(public))
    return "\r\n".join(lines) + "\r\n"
