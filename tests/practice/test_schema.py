from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

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
                assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, f"{method.upper()} {path}"


def test_swagger_ui_is_served_without_a_cdn(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"cdn.jsdelivr.net" not in response.content
