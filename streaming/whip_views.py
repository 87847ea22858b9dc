"""WHIP (RFC 9725) and WHEP: go live, or watch in real time, with an SDP offer over HTTP.

    POST   /whip/                 Bearer <stream key>, application/sdp -> 201, Location, answer
    DELETE /whip/<session>/       ends the session
    PATCH  /whip/<session>/       405: no trickle ICE; the answer carries every candidate
    OPTIONS (either)              CORS preflight, Accept-Post, ICE servers in Link headers

    POST   /whep/<slug>/            a real-time viewer's offer -> 201, Location, answer
    DELETE /whep/<slug>/<session>/  ends the viewer's session

Thin: the offer is checked here (streaming/webrtc/offer.py), rate limited per client
address, and handed to the ingest where the media ends (streaming/ingest/handover.py).
CORS is open to every origin: the stream key in the Authorization header, never a
cookie, is what authorizes a publish.
"""

from asgiref.sync import sync_to_async
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from infra import client_address, ratelimit
from rooms import cache as room_cache
from streaming import conf
from streaming.ingest.handover import hand_over, hand_over_watch
from streaming.webrtc.network import IceSettings
from streaming.webrtc.offer import MAX_OFFER_BYTES, BadOffer, check_offer

SDP = "application/sdp"
OFFER_WINDOW_SECONDS = 60


async def _too_many_offers(request, scope: str) -> bool:
    hits = await sync_to_async(ratelimit.hit)(
        scope, client_address.for_request(request), OFFER_WINDOW_SECONDS
    )
    return hits > conf.whip_offers_per_minute()


def _cors(response: HttpResponse, methods: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, If-Match"
    response["Access-Control-Expose-Headers"] = "Location, Link, ETag, Retry-After"
    return response


def _refusal(status: int, reason: str, **headers) -> HttpResponse:
    response = HttpResponse(reason + "\n", status=status, content_type="text/plain")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return _cors(response, "POST, OPTIONS")


def _with_ice_servers(response: HttpResponse) -> HttpResponse:
    links = IceSettings.from_django().link_headers()
    if links:
        response["Link"] = ", ".join(links)
    return response


def _bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@csrf_exempt
async def whip_endpoint(request):
    if request.method == "OPTIONS":
        response = _cors(HttpResponse(status=204), "POST, OPTIONS")
        response["Accept-Post"] = SDP
        return _with_ice_servers(response)
    if request.method != "POST":
        return _refusal(405, "POST an SDP offer here", Allow="POST, OPTIONS")
    if request.content_type != SDP:
        return _refusal(415, f"the offer must be sent as {SDP}", Accept_Post=SDP)
    key = _bearer(request)
    if not key:
        return _refusal(401, "send the stream key as Authorization: Bearer <key>",
                        WWW_Authenticate="Bearer")  # fmt: skip
    if await _too_many_offers(request, "whip-offers"):
        return _refusal(
            429, "too many offers; wait and retry", Retry_After=str(OFFER_WINDOW_SECONDS)
        )
    if int(request.headers.get("Content-Length") or 0) > MAX_OFFER_BYTES:
        return _refusal(413, f"the offer is larger than {MAX_OFFER_BYTES} bytes")
    try:
        offer = check_offer(request.body)
    except BadOffer as bad:
        return _refusal(bad.status, bad.reason)
    reply = await hand_over({"op": "publish", "key": key, "sdp": offer})
    if reply["status"] != 201:
        extra = {"WWW_Authenticate": "Bearer"} if reply["status"] == 401 else {}
        return _refusal(reply["status"], reply.get("reason", "refused"), **extra)
    response = HttpResponse(reply["sdp"], status=201, content_type=SDP)
    response["Location"] = reverse("whip_session", args=[reply["session"]])
    response["ETag"] = f'"{reply["session"]}"'
    return _with_ice_servers(_cors(response, "POST, OPTIONS"))


@csrf_exempt
async def whip_session(request, session_id: str):
    methods = "DELETE, OPTIONS"
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), methods)
    if request.method != "DELETE":
        # Trickle ICE and ICE restarts (PATCH) are not supported: RFC 9725 section 4.3.
        response = HttpResponse("trickle ICE is not supported\n", status=405)
        response["Allow"] = methods
        return _cors(response, methods)
    reply = await hand_over({"op": "end", "session": session_id}, session_id=session_id)
    status = 200 if reply["status"] == 200 else 404
    return _cors(HttpResponse(status=status), methods)


@csrf_exempt
async def whep_endpoint(request, slug: str):
    """WHEP: a real-time viewer's offer for a live room; 201 with the answer."""
    if request.method == "OPTIONS":
        response = _cors(HttpResponse(status=204), "POST, OPTIONS")
        response["Accept-Post"] = SDP
        return _with_ice_servers(response)
    if request.method != "POST":
        return _refusal(405, "POST an SDP offer here", Allow="POST, OPTIONS")
    if request.content_type != SDP:
        return _refusal(415, f"the offer must be sent as {SDP}", Accept_Post=SDP)
    if await _too_many_offers(request, "whep-offers"):
        return _refusal(
            429, "too many offers; wait and retry", Retry_After=str(OFFER_WINDOW_SECONDS)
        )
    if int(request.headers.get("Content-Length") or 0) > MAX_OFFER_BYTES:
        return _refusal(413, f"the offer is larger than {MAX_OFFER_BYTES} bytes")
    try:
        offer = check_offer(request.body)
    except BadOffer as bad:
        return _refusal(bad.status, bad.reason)
    room = await sync_to_async(room_cache.room)(slug)
    if room is None or not room.is_live:
        return _refusal(404, "the room is not live")
    reply = await hand_over_watch(slug, offer)
    if reply["status"] != 201:
        extra = {"Retry_After": str(reply["retry_after"])} if "retry_after" in reply else {}
        return _refusal(reply["status"], reply.get("reason", "refused"), **extra)
    response = HttpResponse(reply["sdp"], status=201, content_type=SDP)
    response["Location"] = reverse("whep_session", args=[slug, reply["session"]])
    return _with_ice_servers(_cors(response, "POST, OPTIONS"))


@csrf_exempt
async def whep_session(request, slug: str, session_id: str):
    return await whip_session(request, session_id)
