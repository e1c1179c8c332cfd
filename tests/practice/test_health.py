from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_the_database_and_the_broker_answer(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": {"ok": True}, "broker": {"ok": True}}


def test_healthz_is_503_naming_the_broker_when_it_does_not_answer(
    anonymous_client: APIClient, settings: pytest.FixtureRequest
) -> None:
    from workers.celery import app

    # Nothing listens on port 1: the broker is down.
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = anonymous_client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": True}
    assert body["broker"]["ok"] is False


def test_healthz_needs_no_login_and_shows_no_personal_data(anonymous_client: APIClient) -> None:
    body = anonymous_client.get("/healthz").json()
    assert set(body) == {"status", "database", "broker"}
