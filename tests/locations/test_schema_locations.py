from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/locations/",
    "/api/v1/locations/{id}/",
    "/api/v1/locations/{location_id}/hours/",
    "/api/v1/locations/{location_id}/closures/",
    "/api/v1/locations/{location_id}/closures/{id}/",
    "/api/v1/surgeons/",
    "/api/v1/surgeons/{id}/",
    "/api/v1/surgeons/{surgeon_id}/blocks/",
    "/api/v1/surgeons/{surgeon_id}/blocks/{id}/",
    "/api/v1/surgeons/{surgeon_id}/time-off/",
    "/api/v1/surgeons/{surgeon_id}/time-off/{id}/",
    "/api/v1/appointment-types/",
    "/api/v1/appointment-types/{id}/",
    "/api/v1/urgency-tiers/",
    "/api/v1/urgency-tiers/{id}/",
]


@pytest.fixture(scope="module")
def schema() -> dict:
    client = APIClient()
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("path", PATHS)
def test_the_schema_documents_every_location_and_surgeon_endpoint(schema: dict, path: str) -> None:
    assert path in schema["paths"]


def test_the_schema_documents_the_409_of_a_refused_delete(schema: dict) -> None:
    assert "409" in schema["paths"]["/api/v1/locations/{id}/"]["delete"]["responses"]


def test_the_schema_documents_the_list_filters(schema: dict) -> None:
    names = {
        parameter["name"]
        for parameter in schema["paths"]["/api/v1/surgeons/{surgeon_id}/blocks/"]["get"]["parameters"]
    }
    assert {"location", "weekday", "active_on", "limit", "offset"} <= names


def test_the_hours_put_answers_with_hours_and_conflicts(schema: dict) -> None:
    response = schema["paths"]["/api/v1/locations/{location_id}/hours/"]["put"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {"hours", "conflicts"}
