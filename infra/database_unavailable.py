"""A request that meets an unreachable database answers 503, not a 500 page.

While MariaDB restarts, Django raises `OperationalError` (lost connection, cannot
connect) or `InterfaceError` from whatever query the request made. That is
the service being briefly unavailable, not a bug in the request: clients are told so
with 503 and `Retry-After`, and REST clients get the JSON error shape of every other
API answer, so a gift send can be retried with its idempotency key. Django closes a
connection that raised such an error at the end of the request, so the next request
connects again.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
MESSAGE = "The service is briefly unavailable. Try again in a few seconds."


# MySQL client and server errors that mean "no connection", not "this query failed":
# server shutting down, cannot connect (socket, TCP), server gone away, connection lost
# during a query or while reading its answer. A deadlock or a lock wait timeout stays a
# 500: it is a fault of the request's own work.
CONNECTION_LOST_CODES = {1053, 2002, 2003, 2006, 2013, 2055}


def is_database_unavailable(error: BaseException) -> bool:
    if isinstance(error, InterfaceError):  # "connection already closed"
        return True
    if not isinstance(error, OperationalError) or not error.args:
        return False
    return error.args[0] in CONNECTION_LOST_CODES


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"code": "unavailable", "detail": MESSAGE}, status=503)
        else:
            response = HttpResponse(MESSAGE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
