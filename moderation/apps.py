from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Filters, delayed scoring, reports, bans and timeouts, review queue, audit log."""

    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # A site-banned owner may not go live: rooms asks its registered bars, so it
        # never imports moderation (which imports rooms).
        from accounts.permissions import register_chat_restriction
        from moderation.room_page import report_form
        from moderation.services import is_restricted
        from moderation.services.restrictions import site_banned_owner
        from rooms.room_page import register_room_page_part
        from rooms.services import register_publish_bar

        register_room_page_part("moderation", report_form)

        # Banned or timed out users may not chat: accounts asks, never imports moderation.
        register_chat_restriction(is_restricted)

        register_publish_bar(
            "site_banned", "The owner is banned from this site.", site_banned_owner
        )
