from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class GiftsConfig(AppConfig):
    """Gift catalog, wallets and ledger, sending, combos, leaderboards, statistics."""

    name = "gifts"
    verbose_name = "Gifts"

    def ready(self):
        from prometheus_client import REGISTRY

        from gifts import checks  # noqa: F401 -- registers the system checks
        from gifts.catalog import forget_cached_catalog
        from gifts.metrics import LeaderboardDriftCollector

        REGISTRY.register(LeaderboardDriftCollector())
        from gifts.models import Gift
        from gifts.room_page import gift_tray
        from rooms.room_page import register_room_page_part

        register_room_page_part("gifts", gift_tray)

        # gift.send on the room socket: chat owns the socket, gifts answers the frame.
        from chat.socket_frames import register_frame
        from gifts.room_socket import on_gift_send

        register_frame("gift.send", on_gift_send)

        post_save.connect(forget_cached_catalog, sender=Gift, dispatch_uid="gifts-catalog-saved")
        post_delete.connect(
            forget_cached_catalog, sender=Gift, dispatch_uid="gifts-catalog-deleted"
        )
