"""Template tags that show clips on the room page and the stream manager, so the rooms
app's views need not know about clips."""

from django import template

from clips import services

register = template.Library()


@register.simple_tag
def room_clips(room) -> dict:
    return {"recent": services.recent_clips(room), "allowed": services.clips_allowed(room)}


@register.simple_tag
def latest_clips(owner=None) -> list:
    return services.latest_clips(owner=owner)


@register.simple_tag
def room_clip_settings(room) -> dict:
    return {"allowed": services.clips_allowed(room), "disk_bytes": services.disk_bytes(room)}
