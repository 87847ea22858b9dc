"""Template tags of the admin review page."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from chat.ids import timestamp_ms

register = template.Library()


@register.simple_tag
def chat_row(message, highlighted: bool = False, show_room: bool = False):
    """One chat message as a table row: time, (room,) author, text, and whether it is hidden."""
    from datetime import UTC, datetime

    sent = datetime.fromtimestamp(timestamp_ms(message.pk) / 1000, UTC)
    where = format_html("<td>{}</td>", message.room.slug) if show_room else ""
    hidden = mark_safe(" <em>(hidden)</em>") if message.deleted_at else ""
    return format_html(
        '<tr class="{}"><td>{}</td>{}<td>{}</td><td>{}{}</td></tr>',
        "moderation-reviewed" if highlighted else "",
        sent.strftime("%H:%M:%S"),
        where,
        message.user.public_name if not show_room else "",
        message.text,
        hidden,
    )
