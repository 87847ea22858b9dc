"""The ASGI entry point served by daphne: HTTP through Django, WebSockets through Channels.

WebSocket handshakes must come from an allowed host (ALLOWED_HOSTS), so a page
on another site cannot open a socket with a viewer's cookies.
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from livesite.direct_send import DirectSend  # noqa: E402
from livesite.listen_address import LoopbackOnlyInDebug  # noqa: E402
from livesite.routing import websocket_urlpatterns  # noqa: E402
from streaming.origin_asgi import HlsOrigin  # noqa: E402

application = ProtocolTypeRouter(
    {
        # /hls/ (the live video origin) is answered before Django: see streaming/origin.py.
        "http": HlsOrigin(django_asgi_app),
        "websocket": DirectSend(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
# With DEBUG on, only this machine is answered (livesite/listen_address.py).
application = LoopbackOnlyInDebug(application)

# A web process holds thousands of long-lived socket objects; with CPython's default
# thresholds the cyclic collector walks them all every few hundred allocations and
# stalls the event loop for tens of milliseconds. Freeze what start-up built (it lives
# as long as the process) and collect the young generation less often. Measured with
# bench/chat_load.py: p99 at 500 viewers 286 -> 167 ms (docs/benchmarks.md).
gc.freeze()
gc.set_threshold(50_000, 20, 10)
