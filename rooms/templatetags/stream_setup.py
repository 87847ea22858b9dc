"""Template tags for the broadcaster's stream set-up (the dashboard's OBS settings)."""

from django import template

from rooms.ingest_address import obs_server_url as server_url_for

register = template.Library()


@register.simple_tag(takes_context=True)
def obs_server_url(context) -> str:
    return server_url_for(context["request"])
