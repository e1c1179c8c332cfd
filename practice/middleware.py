from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("practice.request")


class RequestLogMiddleware:
    """One line per request: method, path, status, duration. Never bodies or query strings
    (a phone-number search would otherwise land in the log), nor a URL's `token` (a visit page's
    link is a key): it is logged as "<token>"."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        path = request.path
        token = (request.resolver_match.kwargs.get("token") if request.resolver_match else None) or ""
        if token:
            path = path.replace(token, "<token>")
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
