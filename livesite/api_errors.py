"""How the REST API answers a domain error: the one mapping of `realtime.errors.DomainError`.

A view calls a service and lets its error rise; DRF hands it here
(`REST_FRAMEWORK["EXCEPTION_HANDLER"]`). The body is the error's fields, `code`,
`message` and its details, with `detail` repeating the message (DRF's own key, which
clients of the gifts API read); the status is the error's. A refusal that says when to
come back (`retry_after`, seconds) also gets a `Retry-After` header, whole seconds
rounded up.
"""

import math

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from realtime.errors import DomainError


def error_response(error: DomainError) -> Response:
    body = error.as_dict()
    body["detail"] = error.message
    headers = {}
    retry_after = error.details.get("retry_after")
    if isinstance(retry_after, int | float) and retry_after > 0:
        headers["Retry-After"] = str(math.ceil(retry_after))
    return Response(body, status=error.status, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return error_response(exc)
    return drf_exception_handler(exc, context)
