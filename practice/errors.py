"""One error shape for every 4xx and 5xx: {"error": {"code", "message", "fields"}}.

Services raise `DomainError` subclasses carrying a stable `code`; the handler below renders them
and every DRF and Django exception alike. Tests import the codes instead of repeating strings.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, get_urlconf, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule said no. Subclasses set `code` and `status_code`."""

    code: str = "domain_error"
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_message = "The request breaks a rule of the practice."

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.fields = fields or {}
        # Extra keys rendered beside code/message (say, the next free slots after a 409).
        self.extra = extra or {}
        super().__init__(self.message)


class InvalidInput(DomainError):
    code = "invalid"
    default_message = "Invalid input."

    @classmethod
    def for_field(cls, field: str, message: str) -> InvalidInput:
        return cls(message, fields={field: [message]})


class Conflict(DomainError):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT
    default_message = "The request conflicts with the current state."


class ConcurrentChange(Conflict):
    """Another request changed a row this one relied on; nothing was saved. Unlike other
    refusals, it is not kept for an Idempotency-Key's replay: the same retry may well succeed."""

    default_message = "A concurrent change got in the way; nothing was saved. Try again."


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


# A NUL and lone surrogates: valid in a Python string, refused by PostgreSQL's JSON and text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` with every string freed of NUL bytes and lone surrogates (each becomes U+FFFD).
    Error messages echo bad input; an Idempotency-Key stores the answer in a JSON column."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error details, nested or listed, as {"field.sub": ["message", ...]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub, messages in _flatten(value, name).items():
                fields.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}[{index}]" if prefix else f"[{index}]"
                for sub, messages in _flatten(item, name).items():
                    fields.setdefault(sub, []).extend(messages)
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return {key: value for key, value in fields.items() if value}


def _first_code(detail: Any) -> str | None:
    if isinstance(detail, dict):
        for value in detail.values():
            if (code := _first_code(value)) is not None:
                return code
    elif isinstance(detail, list):
        for item in detail:
            if (code := _first_code(item)) is not None:
                return code
    else:
        return getattr(detail, "code", None)
    return None


# Seconds a client is asked to wait when the database does not answer.
DATABASE_RETRY_AFTER_SECONDS = 10
# PostgreSQL's SQLSTATEs for "no usable connection": class 08 (connection exception), and the
# server shutting down or starting up (57P01-57P03). Any other SQLSTATE (a deadlock, a statement
# timeout) is the query's own failure, not the database's absence.
_CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")
_SQLITE_UNAVAILABLE = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN"}


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (down, restarting, refusing
    connections), as opposed to a query of ours failing."""
    if isinstance(exc, InterfaceError):  # a connection already closed
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorname", None) in _SQLITE_UNAVAILABLE
    sqlstate = getattr(cause, "sqlstate", None)
    # psycopg sets no SQLSTATE when it never reached a server: refused, timed out, name unknown.
    return sqlstate is None or sqlstate.startswith(_CONNECTION_SQLSTATES)


def _unavailable_body() -> dict[str, Any]:
    return error_body(
        "service_unavailable", "The service is briefly unavailable; try again in a few seconds."
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if database_unavailable(exc):
        logger.warning("database unavailable", extra={"error": type(exc).__name__})
        return Response(
            _unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, exc.fields, **exc.extra)
        return Response(storable(body), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(fields)
    response = exception_handler(exc, context)
    if response is None:
        # Unhandled: DRF would re-raise into a Django 500 page. Log it and answer in our shape.
        logger.exception("unhandled API error", extra={"view": type(context.get("view")).__name__})
        return Response(
            error_body("server_error", "Something went wrong on our side."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", "Invalid input.", _flatten(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request failed."
        body = error_body(_first_code(detail) or exc.default_code, message)
    elif isinstance(exc, Http404):
        body = error_body("not_found", "Not found.")
    elif isinstance(exc, PermissionDenied):
        body = error_body("permission_denied", "You do not have permission to do this.")
    else:  # pragma: no cover - exception_handler only answers for the cases above
        body = error_body("error", str(exc))
    response.data = storable(body)
    return response


# Django-level handlers, so a 404/500 outside DRF (an unknown URL) still answers in the shape.
def json_404(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_500(request: HttpRequest) -> JsonResponse:
    # Django calls this inside its `except`: the exception being handled is still at hand.
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        response = JsonResponse(_unavailable_body(), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The last route under /api/v1/ and /fhir/: an unknown path answers in the error shape even
    with DEBUG on, where Django would render its HTML 404 page instead of `json_404`.

    Matching every path hides from CommonMiddleware that `/api/v1/patients` lacks only its slash,
    so its APPEND_SLASH redirect is made here, as it would have made it."""
    path = request.path_info
    if settings.APPEND_SLASH and not path.endswith("/"):
        try:
            match = resolve(f"{path}/", get_urlconf())
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return json_404(request, Http404())
