"""The addresses a broadcaster types into OBS as "Server": RTMP, and WHIP (OBS 30+)."""

from rooms import conf


def obs_server_url(request) -> str:
    """`INGEST_PUBLIC_URL`, or the page's host name with the ingest's port and app."""
    if conf.ingest_public_url():
        return conf.ingest_public_url()
    host = request.get_host()
    # Drop the web port; an IPv6 literal keeps its brackets.
    name = host.split("]")[0] + "]" if host.startswith("[") else host.split(":")[0]
    return f"rtmp://{name}:{conf.ingest_port()}/{conf.ingest_app()}"


def whip_url(request) -> str:
    """The WHIP endpoint (streaming/whip_views.py), on the site's own address."""
    return request.build_absolute_uri("/whip/")
