"""Idempotency-Key: a retried POST replays its first response instead of acting twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus, Patient
from booking.services import SlotUnavailable
from practice.idempotency import REPLAYED_HEADER, IdempotencyKeyReused, idempotency_keys_purge
from practice.models import IdempotencyKey
from tests.factories import BookablePractice, PatientFactory, SchedulerFactory

pytestmark = pytest.mark.django_db


def booking(practice: BookablePractice, start: dt.datetime, **overrides: Any) -> dict[str, Any]:
    return {
        "patient": practice.patient.id,
        "surgeon": practice.surgeon.id,
        "location": practice.location.id,
        "appointment_type": practice.visit.code,
        "tier": "standard",
        "start": start.isoformat(),
        **overrides,
    }


def post(client: APIClient, url: str, body: dict[str, Any], key: str):  # type: ignore[no-untyped-def]
    return client.post(url, body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_booking_returns_the_same_appointment_and_status_without_booking_twice(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    body = booking(bookable, bookable.at(9))
    first = post(scheduler_client, "/api/v1/appointments/", body, "key-1")
    again = post(scheduler_client, "/api/v1/appointments/", body, "key-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers[REPLAYED_HEADER] == "true"
    assert REPLAYED_HEADER not in first.headers
    assert Appointment.objects.count() == 1


def test_the_same_key_with_a_different_body_is_a_422_and_acts_not(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    post(scheduler_client, "/api/v1/appointments/", booking(bookable, bookable.at(9)), "key-1")
    response = post(scheduler_client, "/api/v1/appointments/", booking(bookable, bookable.at(10)), "key-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == IdempotencyKeyReused.code
    assert Appointment.objects.count() == 1


def test_the_same_body_in_another_key_order_is_the_same_request(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    body = booking(bookable, bookable.at(9))
    post(scheduler_client, "/api/v1/appointments/", body, "key-1")
    again = post(scheduler_client, "/api/v1/appointments/", dict(reversed(list(body.items()))), "key-1")
    assert again.status_code == 201
    assert Appointment.objects.count() == 1


def test_a_refusal_is_replayed_as_a_refusal(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    post(scheduler_client, "/api/v1/appointments/", booking(bookable, bookable.at(9)), "first")
    taken = booking(bookable, bookable.at(9), patient=PatientFactory().id)
    refused = post(scheduler_client, "/api/v1/appointments/", taken, "second")
    Appointment.objects.all().delete()  # the slot is free now, but the key answers as it did
    again = post(scheduler_client, "/api/v1/appointments/", taken, "second")
    assert (refused.status_code, again.status_code) == (409, 409)
    assert again.json()["error"]["code"] == SlotUnavailable.code
    assert not Appointment.objects.exists()


def test_a_retried_cancellation_is_not_a_409(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    created = post(scheduler_client, "/api/v1/appointments/", booking(bookable, bookable.at(9)), "book")
    url = f"/api/v1/appointments/{created.json()['id']}/cancel/"
    first = post(scheduler_client, url, {"reason": "Feeling better"}, "cancel")
    again = post(scheduler_client, url, {"reason": "Feeling better"}, "cancel")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == AppointmentStatus.CANCELLED


def test_a_retried_reschedule_moves_the_visit_once(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    created = post(scheduler_client, "/api/v1/appointments/", booking(bookable, bookable.at(9)), "book")
    url = f"/api/v1/appointments/{created.json()['id']}/reschedule/"
    first = post(scheduler_client, url, {"start": bookable.at(10).isoformat()}, "move")
    again = post(scheduler_client, url, {"start": bookable.at(10).isoformat()}, "move")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert Appointment.objects.count() == 2


def test_a_retried_patient_creation_creates_one_patient(scheduler_client: APIClient) -> None:
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1950-01-01", "phone": "+13125550177"}
    first = post(scheduler_client, "/api/v1/patients/", body, "patient")
    again = post(scheduler_client, "/api/v1/patients/", body, "patient")
    assert (first.status_code, again.status_code) == (201, 201)
    assert Patient.objects.count() == 1


def test_keys_belong_to_one_user(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    other = APIClient()
    other.force_authenticate(SchedulerFactory())
    post(scheduler_client, "/api/v1/appointments/", booking(bookable, bookable.at(9)), "shared")
    response = post(other, "/api/v1/appointments/", booking(bookable, bookable.at(10)), "shared")
    assert response.status_code == 201
    assert Appointment.objects.count() == 2


def test_a_key_expires_after_24_hours(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    # confirm_new: the second Ann Lee is a possible duplicate of the first, created all the same.
    body = {
        "first_name": "Ann",
        "last_name": "Lee",
        "date_of_birth": "1950-01-01",
        "phone": "+13125550177",
        "confirm_new": True,
    }
    post(scheduler_client, "/api/v1/patients/", body, "patient")
    with time_machine.travel(dt.datetime(2027, 3, 2, 12, 5, tzinfo=dt.UTC)):
        again = post(scheduler_client, "/api/v1/patients/", body, "patient")
    assert REPLAYED_HEADER not in again.headers
    assert Patient.objects.filter(last_name="Lee").count() == 2


def test_expired_keys_are_purged(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1950-01-01", "phone": "+13125550177"}
    post(scheduler_client, "/api/v1/patients/", body, "patient")
    assert idempotency_keys_purge() == 0
    assert idempotency_keys_purge(now=dt.datetime(2027, 3, 2, 12, 5, tzinfo=dt.UTC)) == 1
    assert not IdempotencyKey.objects.exists()


def test_an_overlong_key_is_a_400_naming_the_header(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = post(scheduler_client, "/api/v1/appointments/", booking(bookable, bookable.at(9)), "k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Appointment.objects.exists()


def test_invalid_input_is_replayed_without_storing_anything_else(scheduler_client: APIClient) -> None:
    first = post(scheduler_client, "/api/v1/patients/", {"first_name": "Ann"}, "bad")
    again = post(scheduler_client, "/api/v1/patients/", {"first_name": "Ann"}, "bad")
    assert (first.status_code, again.status_code) == (400, 400)
    assert again.json() == first.json()
    assert not Patient.objects.exists()


def test_every_booking_post_documents_the_idempotency_key_header(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    posts = {
        path: operations["post"]
        for path, operations in schema["paths"].items()
        if "post" in operations and path.split("/")[3] in {"patients", "appointments", "waitlist"}
    }
    assert len(posts) == 9
    for path, operation in posts.items():
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path
