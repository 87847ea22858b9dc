"""The REST API's rate throttles, keyed by the client address of infra.client_address.

DRF's own `get_ident` believes `X-Forwarded-For` from any peer when
`NUM_PROXIES` is unset, so a client that sends a new header on each call is a
new anonymous user each time. These classes differ from DRF's only there.
"""

from rest_framework import throttling

from infra import client_address


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_ident(self, request):
        return client_address.for_request(request)


class UserRateThrottle(throttling.UserRateThrottle):
    def get_ident(self, request):
        return client_address.for_request(request)
