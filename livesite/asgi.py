"""The ASGI entry point served by daphne: HTTP through Django, WebSockets through Channels.

WebSocket handshakes must come from an allowed host (ALLOWED_HOSTS), so a page
on another site cannot open a socket with a viewer's cookies.
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from infra.listen_address import LoopbackOnlyInDebug  # noqa: E402
from livesite.routing import websocket_urlpatterns  # noqa: E402
from livesite.socket_auth import HandshakeAuth  # noqa: E402
from realtime.lean_socket import LeanSocket  # noqa: E402
from streaming.origin_asgi import HlsOrigin  # noqa: E402

application = ProtocolTypeRouter(
    {
        # /hls/ (the live video origin) is answered before Django: see streaming/origin.py.
        "http": HlsOrigin(django_asgi_app),
        # One middleware for who the socket's user is and the server's own send
        # (livesite/socket_auth.py): a process holds thousands of sockets.
        "websocket": AllowedHostsOriginValidator(HandshakeAuth(URLRouter(websocket_urlpatterns))),
    }
)
# With DEBUG on, only this machine is answered (infra/listen_address.py).
application = LoopbackOnlyInDebug(application)
# Outermost, so that no layer keeps daphne's per-socket input queue or upgrade request
# alive (realtime/lean_socket.py).
application = LeanSocket(application)

# Everything start-up built (Django, the URL map, templates' code) lives as long as the
# process: collect once, then freeze it, so that the cyclic collector's full passes,
# which a process holding thousands of sockets otherwise pays for on the event loop,
# never walk it again. The thresholds stay CPython's: raising them (50,000 here before)
# let every request's garbage, database connections included, wait for a rare full
# pass (docs/reliability.md, section 1). Measured with bench/chat_load.py
# (docs/benchmarks.md).
gc.collect()
gc.freeze()
