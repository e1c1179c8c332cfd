"""OpenAPI post-processing: name the error shape once and attach it to every operation."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as _AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string", "example": "Invalid input."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "example": {"start": ["This field is required."]},
                },
            },
            "additionalProperties": True,
        }
    },
}

_DESCRIPTIONS = {
    "400": "Invalid input; `fields` names each bad field.",
    "401": "Not authenticated.",
    "403": "Authenticated, but this role may not do this.",
    "404": "Not found.",
    "409": "Conflicts with the current state (a taken slot, a disallowed transition).",
    "422": "This Idempotency-Key was already used with a different request.",
    "503": "The database cannot be reached (`service_unavailable`); retry after `Retry-After` seconds.",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}


# The FHIR API's errors (/fhir/): an OperationOutcome, as application/fhir+json.
OPERATION_OUTCOME_SCHEMA = {
    "type": "object",
    "description": "A FHIR R4 OperationOutcome: one issue per problem, `expression` naming the parameter.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string", "example": "error"},
                    "code": {"type": "string", "example": "invalid"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
                "additionalProperties": True,
            },
        },
    },
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["OperationOutcome"] = OPERATION_OUTCOME_SCHEMA
    for path, operations in result.get("paths", {}).items():
        if path.startswith("/fhir/"):
            ref, media_type = {"$ref": "#/components/schemas/OperationOutcome"}, "application/fhir+json"
        else:
            ref, media_type = {"$ref": "#/components/schemas/Error"}, "application/json"
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            public_operation = not operation.get("security") or {} in operation["security"]
            parameters = operation.get("parameters", [])
            reads_query = any(parameter.get("in") == "query" for parameter in parameters)
            codes = ["400"] if method in {"post", "put", "patch"} or reads_query else []
            if not public_operation:
                codes += ["401", "403"]
            if "{" in path:
                codes.append("404")
            if any(parameter.get("name") == "Idempotency-Key" for parameter in parameters):
                codes.append("422")
            for code in codes:
                responses.setdefault(
                    code,
                    {"description": _DESCRIPTIONS[code], "content": {media_type: {"schema": ref}}},
                )
            # Any operation may find the database down (practice.errors.database_unavailable),
            # unless it declared a 503 of its own (the health check's).
            responses.setdefault(
                "503",
                {
                    "description": _DESCRIPTIONS["503"],
                    "headers": _RETRY_AFTER,
                    "content": {media_type: {"schema": ref}},
                },
            )
            # Whatever a view declared for an error status, it is the one shape.
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    response.setdefault("content", {media_type: {"schema": ref}})
    return result


class AutoSchema(_AutoSchema):
    """Names nested serializers after their view: `AppointmentBookApi.InputSerializer` becomes the
    component `AppointmentBookInput`, so the styleguide's per-view Input/Output classes never collide."""

    def get_serializer_name(self, serializer: Any, direction: Literal["request", "response"]) -> str:
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            outer, inner = qualname.rsplit(".", 1)
            outer = outer.split(".")[-1].removesuffix("Api").removesuffix("View")
            name = outer + inner.removesuffix("Serializer")
        return name
