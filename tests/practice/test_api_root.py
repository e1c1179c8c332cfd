"""GET /api/v1/ links to the API; any unknown path under /api/v1/ or /fhir/ is a JSON 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from practice.apis import API_ROOT_LINKS

pytestmark = pytest.mark.django_db

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_the_root_links_every_collection_the_schema_and_the_docs_as_absolute_urls(
    scheduler_client: APIClient,
) -> None:
    response = scheduler_client.get("/api/v1/")
    assert response.status_code == 200
    links = response.json()["links"]
    assert set(links) == set(API_ROOT_LINKS)
    for key in [
        "locations",
        "slots",
        "slots-check",
        "patients",
        "referrals",
        "appointments",
        "holds",
        "worklist",
        "reports-access",
        "fhir-metadata",
        "docs",
    ]:
        assert key in links
    assert links["schema"] == "http://testserver/api/v1/schema/"
    assert links["reports-access"] == "http://testserver/api/v1/reports/access/"


def test_every_link_of_the_root_answers_a_scheduler(scheduler_client: APIClient) -> None:
    links = scheduler_client.get("/api/v1/").json()["links"]
    for key, url in links.items():
        response = scheduler_client.get(urlsplit(url).path)
        assert response.status_code != 404, key
        # The token endpoint only takes POST; slots need their query; the audit trail is for
        # administrators. None is missing.
        expected = {200, 400, 405} | ({403} if key in {"audit", "reports-simulate"} else set())
        assert response.status_code in expected, (key, response.status_code)


def test_the_root_is_readable_without_logging_in(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json()["links"]["locations"] == "http://testserver/api/v1/locations/"


def test_the_root_ignores_a_stale_token_rather_than_refusing(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/v1/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 200


def test_the_root_is_in_the_openapi_schema_as_public(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/"]["get"]
    assert {} in operation.get("security", [{}])
    assert "200" in operation["responses"]


@pytest.fixture(params=[False, True], ids=["DEBUG off", "DEBUG on"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing/",
        "/api/v1/no-such-thing",
        "/api/v1/locations/7/no-such-action/",
        "/fhir/",
        "/fhir",
        "/fhir/Patient/7",
    ],
)
def test_an_unknown_path_under_the_api_or_fhir_is_a_json_404(
    debug: bool, anonymous_client: APIClient, path: str
) -> None:
    response = anonymous_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_a_post_to_an_unknown_api_path_is_a_json_404_not_a_csrf_refusal(
    debug: bool, anonymous_client: APIClient
) -> None:
    anonymous_client.enforce_csrf_checks = True
    response = anonymous_client.post("/api/v1/no-such-thing/", {"a": 1}, format="json")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_a_known_path_without_its_slash_still_redirects_to_it(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/patients?search=ada")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/patients/?search=ada"
