from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection
from django.http.response import HttpResponseBase
from django.test import Client
from rest_framework.test import APIClient

from practice.errors import DATABASE_RETRY_AFTER_SECONDS, database_unavailable

pytestmark = pytest.mark.django_db


def test_an_unknown_url_answers_404_in_the_error_shape(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_a_missing_field_is_named_in_the_error(anonymous_client: APIClient) -> None:
    response = anonymous_client.post("/api/v1/auth/token/", {"username": "sam"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"password": ["This field is required."]}


def test_malformed_json_is_a_400_not_a_500(anonymous_client: APIClient) -> None:
    response = anonymous_client.generic(
        "POST", "/api/v1/auth/token/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_request_is_logged_as_one_json_line_without_its_body(
    anonymous_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="practice.request"):
        anonymous_client.post(
            "/api/v1/auth/token/", {"username": "sam", "password": "s3cret-value"}, format="json"
        )
    (record,) = [r for r in caplog.records if r.name == "practice.request"]
    assert (record.method, record.path, record.status) == ("POST", "/api/v1/auth/token/", 400)
    assert record.duration_ms >= 0
    assert "s3cret-value" not in caplog.text


def test_an_error_log_line_never_carries_the_query_string() -> None:
    import json
    import logging

    from django.test import RequestFactory

    from practice.logging import JsonFormatter

    request = RequestFactory().get("/api/v1/patients/", {"search": "3125550199"})
    record = logging.makeLogRecord(
        {
            "msg": "Internal Server Error: %s",
            "args": (request.path,),
            "levelname": "ERROR",
            "request": request,
            "status_code": 500,
        }
    )
    line = JsonFormatter().format(record)
    assert "3125550199" not in line
    assert json.loads(line)["status_code"] == 500


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/patients/"])
def test_json_nested_too_deeply_is_a_400_not_a_500(scheduler_client: APIClient, path: str) -> None:
    response = scheduler_client.post(path, "[" * 5000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize("bad", ["\u0000", "\ud800"], ids=["a NUL byte", "a lone surrogate"])
def test_a_keyed_request_whose_error_echoes_an_unstorable_character_is_a_400_and_replays(
    scheduler_client: APIClient, bad: str
) -> None:
    """Choice errors repeat the value sent; the key's stored answer must hold it too."""
    body = json.dumps({"status": bad}).encode()  # the escape, as a client would send it
    first = scheduler_client.post(
        "/api/v1/waitlist/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="odd"
    )
    again = scheduler_client.post(
        "/api/v1/waitlist/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="odd"
    )
    assert first.status_code == 400, first.content
    assert "status" in first.json()["error"]["fields"]
    assert (again.status_code, again.json()) == (400, first.json())


@contextmanager
def database_down() -> Iterator[None]:
    """Every new query fails as when PostgreSQL refuses connections (psycopg sets no SQLSTATE)."""

    def refuse() -> None:
        raise OperationalError("connection failed: Connection refused")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "ensure_connection", refuse)
        yield


def assert_unavailable(response: HttpResponseBase) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert json.loads(response.getvalue()) == {
        "error": {
            "code": "service_unavailable",
            "message": "The service is briefly unavailable; try again in a few seconds.",
            "fields": {},
        }
    }


def test_an_api_request_with_the_database_down_is_a_503_to_retry(scheduler_client: APIClient) -> None:
    with database_down():
        response = scheduler_client.get("/api/v1/locations/")
    assert_unavailable(response)


def test_a_page_outside_the_api_with_the_database_down_is_a_503_too() -> None:
    # The admin reads the session before any view of ours runs: Django's handler500 answers.
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a-session-the-database-would-hold"
    with database_down():
        response = client.get("/admin/")
    assert_unavailable(response)


def test_only_a_missing_connection_counts_as_the_database_down() -> None:
    failure = OperationalError("deadlock detected")
    failure.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    assert not database_unavailable(failure)
    assert database_unavailable(InterfaceError("connection already closed"))


def test_a_keyed_create_with_the_database_down_is_a_503_and_its_retry_acts(
    admin_client_api: APIClient,
) -> None:
    location = {"name": "Oak Park", "address": "1 Main St", "phone": "+13125550111", "timezone": "UTC"}
    with database_down():
        response = admin_client_api.post("/api/v1/locations/", location, HTTP_IDEMPOTENCY_KEY="k-503")
    assert_unavailable(response)
    retry = admin_client_api.post("/api/v1/locations/", location, HTTP_IDEMPOTENCY_KEY="k-503")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
