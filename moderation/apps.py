from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Filters, delayed scoring, reports, bans and timeouts, review queue, audit log."""

    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # A site-banned owner may not go live: rooms asks its registered bars, so it
        # never imports moderation (which imports rooms).
        from moderation.room_page import report_form
        from moderation.services.restrictions import site_banned_owner
        from rooms.room_page import register_room_page_part
        from rooms.services import register_publish_bar

        register_room_page_part("moderation", report_form)

        # The mod.* frames of the room socket: chat owns the socket, moderation answers them.
        from chat.socket_frames import register_frame
        from moderation.room_socket import FRAMES

        for frame_type, handler in FRAMES.items():
            register_frame(frame_type, handler)

        # Every chat message passes the gate before it is stored (chat/screening.py).
        from chat.screening import register_screen
        from moderation import gate

        register_screen(gate)

        register_publish_bar(
            "site_banned", "The owner is banned from this site.", site_banned_owner
        )
