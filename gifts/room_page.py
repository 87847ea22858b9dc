"""The gift tray on a room's page (registered with rooms.room_page in GiftsConfig.ready)."""

from django.templatetags.static import static

from gifts import leaderboards
from gifts.catalog import room_catalog
from gifts.services import coins


def gift_tray(request, room, signed_in: bool) -> tuple[dict, dict]:
    context = {
        "gift_catalog": room_catalog(),
        "leaderboards": leaderboards.room_snapshot(room),
    }
    room_config = {
        "giftAnimations": static("gifts/gift-animations.js"),
        "balance": coins.wallet_of(request.user).coins if signed_in else None,
    }
    return context, room_config
