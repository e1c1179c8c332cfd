from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import AppointmentFactory, LocationFactory, OpeningHoursFactory

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_validates_without_warnings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out)
    )
    assert json.loads(out.read_text())["openapi"].startswith("3.")


def test_the_schema_names_the_error_shape_on_every_protected_operation(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") and {} not in operation["security"]:
                media_type, shape = (
                    ("application/fhir+json", "OperationOutcome")
                    if path.startswith("/fhir/")
                    else ("application/json", "Error")
                )
                assert operation["responses"]["401"]["content"][media_type]["schema"] == {
                    "$ref": f"#/components/schemas/{shape}"
                }, f"{method.upper()} {path}"


def test_swagger_ui_is_served_without_a_cdn(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"cdn.jsdelivr.net" not in response.content


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes "or null"."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def _response_schema(schema: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    content = schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return {"allOf": [_json_schema(content)], "components": _json_schema(schema["components"])}


def test_answers_match_the_schema_where_fields_are_empty_or_wall_clock_times(
    admin_client_api: APIClient,
) -> None:
    """What the API answers validates against what its schema promises (a visit nobody booked
    through the API has no booked_by; hours are HH:MM)."""
    schema = admin_client_api.get("/api/v1/schema/?format=json").json()
    visit = AppointmentFactory()
    OpeningHoursFactory(location=visit.location, weekday=0, opens=dt.time(8), closes=dt.time(17, 30))
    answers = [
        (f"/api/v1/appointments/{visit.pk}/", "/api/v1/appointments/{id}/"),
        (f"/api/v1/locations/{visit.location_id}/hours/", "/api/v1/locations/{location_id}/hours/"),
    ]
    for url, template in answers:
        response = admin_client_api.get(url)
        assert response.status_code == 200, url
        jsonschema.validate(response.json(), _response_schema(schema, template, "get", "200"))


def test_a_wall_clock_time_with_an_offset_is_a_400_naming_it(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    week = [{"weekday": 0, "opens": "08:00+05:00", "closes": "17:00"}]
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", week, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["0.opens"]


def test_the_schema_documents_a_bad_filter_and_a_reused_idempotency_key(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            if any(parameter["in"] == "query" for parameter in parameters):
                assert "400" in operation["responses"], f"{method.upper()} {path}"
            if any(parameter["name"] == "Idempotency-Key" for parameter in parameters):
                assert "422" in operation["responses"], f"{method.upper()} {path}"
    assert "409" in schema["paths"]["/api/v1/patients/{id}/"]["delete"]["responses"]


def test_every_operation_documents_the_database_down_503(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        if path == "/healthz":
            continue  # its 503 is its own: the health report
        for method, operation in operations.items():
            unavailable = operation["responses"]["503"]
            assert "Retry-After" in unavailable["headers"], f"{method.upper()} {path}"
            media_type, shape = (
                ("application/fhir+json", "OperationOutcome")
                if path.startswith("/fhir/")
                else ("application/json", "Error")
            )
            assert unavailable["content"][media_type]["schema"] == {
                "$ref": f"#/components/schemas/{shape}"
            }, f"{method.upper()} {path}"
