"""Template filters for lengths of time (a replay's duration on its card)."""

from django import template

register = template.Library()


@register.filter
def clock(seconds) -> str:
    """Seconds as a player shows them: 65 → "1:05", 3725.4 → "1:02:05"."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"
