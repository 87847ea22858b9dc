from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Real-time plumbing that knows no event types: publish (now or after commit) to a
    room or to every process, the room feed, a room's fan-out and its direct send,
    presence, control events, the Redis clients. Every app publishes through it; it
    imports no app of the site."""

    name = "realtime"
    verbose_name = "Real-time"
