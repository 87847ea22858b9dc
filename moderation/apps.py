from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Filters, delayed scoring, reports, bans and timeouts, review queue, audit log."""

    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # A site-banned owner may not go live: rooms asks its registered bars, so it
        # never imports moderation (which imports rooms).
        from moderation.services.restrictions import site_banned_owner
        from rooms.services import register_publish_bar

        register_publish_bar(
            "site_banned", "The owner is banned from this site.", site_banned_owner
        )
