"""Keeping operator endpoints (/metrics, /readyz) to the operator.

The rule itself is accounts.permissions.may_read_operator_endpoints; this is the
view decorator that reads the client address (infra.client_address, so a
forged X-Forwarded-For does not help) and the bearer token from a request.
"""

from functools import wraps

from django.http import HttpResponseForbidden

from accounts.permissions import may_read_operator_endpoints
from infra import client_address


def bearer_token(request) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def operator_only(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        address = client_address.for_request(request)
        if not may_read_operator_endpoints(address, bearer_token(request)):
            return HttpResponseForbidden("Only from the operator's networks, or with the token.")
        return view(request, *args, **kwargs)

    return guarded
