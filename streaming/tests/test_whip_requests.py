"""What /whip/ answers before any media flows: CORS, methods, hostile offers, limits."""

import pytest
from django.test import AsyncClient

from streaming.webrtc.offer import MAX_OFFER_BYTES

pytestmark = pytest.mark.django_db

GOOD_OFFER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0",
    "a=fingerprint:sha-256 00:11", "a=ice-ufrag:abcd", "a=ice-pwd:0123456789abcdef012345",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=rtpmap:96 H264/90000",
    "a=sendonly", "",
])  # fmt: skip


async def post_offer(body: str | bytes, key: str = "live_some-key", **headers):
    client = AsyncClient()
    if isinstance(body, str):
        body = body.encode()
    return await client.post(
        "/whip/", body, content_type="application/sdp",
        headers={"Authorization": f"Bearer {key}", **headers},
    )  # fmt: skip


async def test_a_preflight_allows_any_origin_and_names_the_offer_type():
    response = await AsyncClient().options("/whip/", headers={"Origin": "https://studio.example"})
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "Location" in response["Access-Control-Expose-Headers"]
    assert response["Accept-Post"] == "application/sdp"


async def test_ice_servers_are_offered_in_link_headers(settings):
    settings.WEBRTC_ICE_SERVERS = ["stun:stun.example:3478", "turn:turn.example:3478"]
    settings.WEBRTC_TURN_USERNAME, settings.WEBRTC_TURN_CREDENTIAL = "live", "secret"
    response = await AsyncClient().options("/whip/")
    assert '<stun:stun.example:3478>; rel="ice-server"' in response["Link"]
    assert 'username="live"; credential="secret"' in response["Link"]


async def test_an_offer_without_a_stream_key_gets_401():
    response = await AsyncClient().post("/whip/", GOOD_OFFER, content_type="application/sdp")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


async def test_an_offer_that_is_not_sdp_gets_415():
    response = await AsyncClient().post(
        "/whip/", "{}", content_type="application/json", headers={"Authorization": "Bearer k"}
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("hello", "not an SDP"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        ("v=0\r\nthis is not sdp\r\n", "not <type>=<value>"),
        ("v=0\r\nm=video\r\n", "malformed m= line"),
        (GOOD_OFFER.replace("a=fingerprint:sha-256 00:11\r\n", ""), "no DTLS fingerprint"),
        (GOOD_OFFER.replace("m=video", "m=audio").replace("H264/90000", "opus/48000"), "no video"),
        (GOOD_OFFER.replace("H264", "AV1"), "neither H.264 nor VP8"),
    ],
)
async def test_a_malformed_offer_gets_400_with_a_reason(body, reason):
    response = await post_offer(body)
    assert response.status_code == 400
    assert reason in response.content.decode()


async def test_an_offer_over_64_kb_gets_413():
    huge = GOOD_OFFER + "a=x-padding:" + "x" * MAX_OFFER_BYTES + "\r\n"
    response = await post_offer(huge)
    assert response.status_code == 413


async def test_offers_flooding_from_one_address_are_rate_limited(settings):
    settings.WHIP_OFFERS_PER_MINUTE = 1
    statuses = [(await post_offer("hello")).status_code for _ in range(3)]
    assert statuses == [400, 429, 429]


async def test_with_no_ingest_running_an_offer_gets_503():
    response = await post_offer(GOOD_OFFER)
    assert response.status_code == 503
    assert "no ingest" in response.content.decode()


async def test_trickle_ice_is_not_supported():
    response = await AsyncClient().patch(
        "/whip/abc-def/", "a=candidate:1", content_type="application/trickle-ice-sdpfrag"
    )
    assert response.status_code == 405
    assert "DELETE" in response["Allow"]


async def test_deleting_an_unknown_session_gets_404():
    response = await AsyncClient().delete("/whip/nobody-nothing/")
    assert response.status_code == 404
