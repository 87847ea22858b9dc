from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Filters, delayed scoring, reports, bans and timeouts, review queue, audit log."""

    name = "moderation"
    verbose_name = "Moderation"
