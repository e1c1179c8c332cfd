"""FHIR over HTTP: `application/fhir+json` in and out, and every error as an OperationOutcome.

The views are DRF views with the API's authentication and roles; only the media type and the
error shape differ from /api/v1/ (practice.errors renders its own shape there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DomainError,
    InvalidInput,
    _flatten,
    database_unavailable,
)
from practice.parsers import JSONParser
from practice.permissions import IsScheduler
from practice.schema import AutoSchema

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"
    charset = "utf-8"


class FhirJSONParser(JSONParser):
    media_type = FHIR_JSON


class FhirNegotiation(BaseContentNegotiation):
    """Always FHIR JSON: `Accept: application/json` (or `_format=json`) gets it too, as servers do."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        for parser in parsers:
            if parser.media_type == (request.content_type or "").split(";")[0].strip():
                return parser
        return None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


# FHIR's issue types (http://hl7.org/fhir/R4/valueset-issue-type.html) for our statuses.
_ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
    503: "transient",
}


def operation_outcome(
    message: str, *, status_code: int, code: str | None = None, expression: list[str] | None = None
) -> dict[str, Any]:
    """An OperationOutcome with one error issue; our own error code, if any, as its details."""
    issue: dict[str, Any] = {
        "severity": "error" if status_code < 500 else "fatal",
        "code": _ISSUE_TYPES.get(status_code, "processing" if status_code < 500 else "exception"),
        "diagnostics": message,
    }
    if code:
        issue["details"] = {"coding": [{"system": "urn:practice:error-code", "code": code}], "text": message}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _outcomes_for_fields(
    message: str, *, status_code: int, code: str, fields: dict[str, list[str]]
) -> dict[str, Any]:
    if not fields:
        return operation_outcome(message, status_code=status_code, code=code)
    issues = []
    for field, messages in fields.items():
        for text in messages:
            issues += operation_outcome(
                f"{field}: {text}", status_code=status_code, code=code, expression=[field]
            )["issue"]
    return {"resourceType": "OperationOutcome", "issue": issues}


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """The /fhir/ views' exception handler: every failure as an OperationOutcome."""
    headers: dict[str, str] = {}
    if database_unavailable(exc):
        logger.warning("database unavailable", extra={"error": type(exc).__name__})
        body = operation_outcome(
            "The service is briefly unavailable; try again in a few seconds.",
            status_code=503,
            code="service_unavailable",
        )
        return Response(body, status=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if isinstance(exc, DomainError):
        body = _outcomes_for_fields(
            exc.message, status_code=exc.status_code, code=exc.code, fields=exc.fields
        )
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        body = _outcomes_for_fields(
            "Invalid input.", status_code=400, code="invalid", fields=_flatten(exc.detail)
        )
        return Response(body, status=400)
    if isinstance(exc, exceptions.APIException):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            authenticate = context["view"].get_authenticate_header(context["request"])
            if authenticate:
                headers["WWW-Authenticate"] = authenticate
            else:
                exc.status_code = status.HTTP_403_FORBIDDEN
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = operation_outcome(str(detail), status_code=exc.status_code, code=str(code))
        return Response(body, status=exc.status_code, headers=headers)
    logger.exception("unhandled FHIR error", extra={"view": type(context.get("view")).__name__})
    return Response(
        operation_outcome("Something went wrong on our side.", status_code=500, code="server_error"),
        status=500,
    )


class FhirAutoSchema(AutoSchema):
    """A resource type's read and search share a view: `fhir_<Type>_read` and `fhir_<Type>_search`,
    the search parameters on the search alone."""

    def _reads_one(self) -> bool:
        return "{id}" in self.path

    def get_operation_id(self) -> str:
        named: str | None = getattr(self.view, "operation_name", None)
        if named is not None:
            return named
        kind = getattr(self.view, "resource_type", None)
        if kind is None:
            return super().get_operation_id()
        return f"fhir_{kind}_{'read' if self._reads_one() else 'search'}"

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        if getattr(self.view, "resource_type", None) and self._reads_one():
            parameters = [parameter for parameter in parameters if parameter.get("in") != "query"]
        return parameters


class FhirView(APIView):
    """A FHIR endpoint: the API's authentication, schedulers only, FHIR JSON, OperationOutcomes."""

    schema = FhirAutoSchema()
    permission_classes = [IsScheduler]
    renderer_classes = [FhirJSONRenderer]
    parser_classes = [FhirJSONParser, JSONParser]
    content_negotiation_class = FhirNegotiation

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        for name, listed in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in listed):
                raise InvalidInput.for_field(name.replace("\x00", ""), "A NUL byte cannot be searched for.")
        if request.method == "POST":
            where = _nul_in(request.data, "")
            if where is not None:
                raise InvalidInput.for_field(where or "body", "A NUL byte cannot be stored or searched for.")


def _nul_in(value: Any, path: str) -> str | None:
    """The path of the first string in a JSON body holding a NUL byte (PostgreSQL refuses it)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return path or "body"
        found = _nul_in(item, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]")
        if found is not None:
            return found.lstrip(".")
    return None


def fhir_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The last route under /fhir/: an unknown path or resource type is an OperationOutcome 404."""
    return JsonResponse(
        operation_outcome("Unknown FHIR path or resource type.", status_code=404, code="not_found"),
        status=404,
        content_type=FHIR_JSON,
    )
