"""Administrators' creates are safe to retry with an Idempotency-Key, like bookings."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from locations.models import Block, Location
from tests.factories import LocationFactory, SurgeonFactory

pytestmark = pytest.mark.django_db

LOCATION = {
    "name": "Oak Park",
    "address": "1 Main St",
    "phone": "+13125550111",
    "timezone": "America/Chicago",
}


def test_a_retried_location_create_makes_one_location_and_replays_the_answer(
    admin_client_api: APIClient,
) -> None:
    first = admin_client_api.post("/api/v1/locations/", LOCATION, HTTP_IDEMPOTENCY_KEY="k-1")
    again = admin_client_api.post("/api/v1/locations/", LOCATION, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Location.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(admin_client_api: APIClient) -> None:
    admin_client_api.post("/api/v1/locations/", LOCATION, HTTP_IDEMPOTENCY_KEY="k-2")
    response = admin_client_api.post(
        "/api/v1/locations/", {**LOCATION, "name": "Elsewhere"}, HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 422
    assert Location.objects.count() == 1


def test_a_retried_block_create_makes_one_block(admin_client_api: APIClient) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory()
    body = {
        "location": location.pk,
        "weekday": 1,
        "start": "08:00",
        "end": "12:00",
        "valid_from": "2027-01-04",
    }
    url = f"/api/v1/surgeons/{surgeon.pk}/blocks/"
    first = admin_client_api.post(url, body, HTTP_IDEMPOTENCY_KEY="b-1")
    again = admin_client_api.post(url, body, HTTP_IDEMPOTENCY_KEY="b-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert Block.objects.count() == 1
