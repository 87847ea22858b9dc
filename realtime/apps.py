from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Real-time plumbing that knows no event types: publish (now or after commit) to a
    room or to every process, presence, control events, the fan-out's direct send.
    Every app publishes through it; it imports no app of the site."""

    name = "realtime"
    verbose_name = "Real-time"
