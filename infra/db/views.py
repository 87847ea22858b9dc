"""The server-error view: 503 when every database connection stayed busy, else Django's 500.

A request that waited DATABASE_CONNECTION_WAIT seconds for a connection
(infra/db/pool.py) meets a full house, not a fault: it is told to retry.
It renders without the database, which is what it could not get.
"""

import sys

from django.http import HttpResponse, JsonResponse
from django.views.defaults import server_error as django_server_error

from infra.db.pool import ConnectionPoolTimeout

RETRY_AFTER_SECONDS = 5


def server_error(request):
    error = sys.exc_info()[1]
    if not isinstance(error, ConnectionPoolTimeout):
        return django_server_error(request)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": "The site is busy. Try again in a few seconds."})
    else:
        response = HttpResponse(
            "<!doctype html><title>Busy</title><h1>The site is busy</h1>"
            "<p>Try again in a few seconds.</p>"
        )
    response.status_code = 503
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
