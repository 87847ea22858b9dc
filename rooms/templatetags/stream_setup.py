"""Template tags for the broadcaster's stream set-up (the dashboard's OBS settings)."""

from django import template

from rooms.ingest_address import obs_server_url as server_url_for
from rooms.ingest_address import whip_url as whip_url_for

register = template.Library()


@register.simple_tag(takes_context=True)
def obs_server_url(context) -> str:
    return server_url_for(context["request"])


@register.simple_tag(takes_context=True)
def whip_server_url(context) -> str:
    return whip_url_for(context["request"])
