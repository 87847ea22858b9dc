"""Who is behind a WebSocket, decided once at the handshake, in one scope.

Channels' `AuthMiddlewareStack` is three middlewares (cookies, session, user), each
copying the scope, the session one wrapping `send` per connection, the user a lazy
object; with `DirectSend` in front that made five scopes and a dozen suspended
coroutines per socket, all kept for as long as the socket lives. A web process holds
thousands of sockets (bench/bench_socket_memory.py), so `HandshakeAuth` does the same
work in one step: it parses the cookies, opens the session, resolves the user
(`channels.auth.get_user`, as `AuthMiddleware` does before the consumer's `connect`),
and keeps the server's own `send` for the fan-out (realtime/direct_send.py), in one
copy of the scope.

Consumers get `scope["user"]` (the user itself rather than a lazy wrapper around it)
and nothing of the handshake's cookies or session: no socket consumer writes a session
(Channels' session wrapper saves one only on HTTP responses anyway), and a socket that
lives for hours should not hold the session store and its data
(bench/bench_socket_memory.py).
"""

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie

from realtime.direct_send import SCOPE_KEY as DIRECT_SEND


def _cookie_header(scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return value.decode("latin1")
    return ""


class HandshakeAuth:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        cookies = parse_cookie(_cookie_header(scope))
        session_store = import_module(settings.SESSION_ENGINE).SessionStore
        session = session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        user = await get_user({"session": session})
        scope = {**scope, "user": user, DIRECT_SEND: send}
        return await self.inner(scope, receive, send)
