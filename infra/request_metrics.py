"""Prometheus request metrics: counts and latencies of every HTTP request; each app adds its own.

A few lines of middleware on prometheus_client rather than django-prometheus,
because this one works as native async middleware (daphne serves our pages
from the event loop; a sync-only middleware would push every request through
a thread) and labels by URL route name, which keeps label cardinality bounded.
/metrics itself is the site's endpoint (livesite/metrics.py).
"""

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "livesite_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
LATENCY = Histogram(
    "livesite_http_request_duration_seconds",
    "Time to produce an HTTP response",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


def record(request, response, started: float) -> None:
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    route = route_of(request)
    REQUESTS.labels(method, route, str(response.status_code)).inc()
    LATENCY.labels(method, route).observe(time.perf_counter() - started)


class RequestMetricsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        record(request, response, started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        record(request, response, started)
        return response
