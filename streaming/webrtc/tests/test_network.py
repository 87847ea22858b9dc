"""ICE settings: what clients are offered, and the public address behind a 1:1 NAT."""

from streaming.webrtc.network import IceSettings, announce_public_address

ANSWER = "\r\n".join([
    "v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96",
    "a=candidate:abc 1 udp 2130706431 10.0.0.5 40000 typ host",
    "a=candidate:def 1 udp 1694498815 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 40000",
    "",
])  # fmt: skip


def test_no_servers_means_host_candidates_only():
    # aiortc would otherwise ask a public Google STUN server.
    assert IceSettings().configuration().iceServers == []
    assert IceSettings().link_headers() == []


def test_turn_credentials_go_with_turn_urls_only():
    ice = IceSettings(servers=("stun:s.example:3478", "turn:t.example:3478"), username="u",
                      credential="p")  # fmt: skip
    stun, turn = ice.link_headers()
    assert stun == '<stun:s.example:3478>; rel="ice-server"'
    assert 'username="u"; credential="p"' in turn
    servers = ice.configuration().iceServers
    assert servers[1].username == "u" and servers[0].username is None


def test_the_public_address_is_announced_beside_each_host_candidate():
    lines = announce_public_address(ANSWER, "203.0.113.7").splitlines()
    host = [line for line in lines if " typ host" in line]
    assert len(host) == 2
    assert any("203.0.113.7 40000 typ host" in line for line in host)
    assert any("10.0.0.5 40000 typ host" in line for line in host)
    assert sum(" typ srflx" in line for line in lines) == 1


def test_without_a_public_address_the_answer_is_untouched():
    assert announce_public_address(ANSWER, "") == ANSWER
