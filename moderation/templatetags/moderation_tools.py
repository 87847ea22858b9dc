"""Template tags of the in-room moderator tools (moderation/room_tools.html)."""

from django import template

from chat.services import slow_mode_of
from moderation.models import RoomRules

register = template.Library()

SLOW_MODE_CHOICES = (0, 3, 5, 10, 30, 60, 120, 300)


@register.simple_tag
def room_moderation_state(room) -> dict:
    """What the tools show when the page loads; the socket keeps it current afterwards."""
    slow_mode = slow_mode_of(room.pk)
    choices = sorted({*SLOW_MODE_CHOICES, slow_mode})
    followers_only = RoomRules.objects.filter(room=room, followers_only=True).exists()
    return {"slow_mode": slow_mode, "slow_mode_choices": choices, "followers_only": followers_only}
