"""A hold checks what its booking will check, so that it never keeps a slot the booking would
refuse: the tier's window (or the referral's due date) and the patient's other visits."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from booking.models import Appointment, Hold, Referral, ReferralStatus
from booking.services import HoldMismatch, OutsideTierWindow, PatientUnavailable, referral_create
from tests.factories import BOOKING_MONDAY, BlockFactory, BookablePractice, PatientFactory, tier

pytestmark = pytest.mark.django_db


def slot(practice: BookablePractice, start: dt.datetime, **overrides: Any) -> dict[str, Any]:
    return {
        "surgeon": practice.surgeon.id,
        "location": practice.location.id,
        "appointment_type": practice.visit.code,
        "tier": "standard",
        "start": start.isoformat(),
        **overrides,
    }


def refer(practice: BookablePractice, days_before_the_visit: int, **overrides: Any) -> Referral:
    received = BOOKING_MONDAY - dt.timedelta(days=days_before_the_visit)
    return referral_create(
        patient=overrides.pop("patient", practice.patient),
        tier=tier("standard"),
        appointment_type=practice.visit,
        received_at=dt.datetime.combine(received, dt.time(10), tzinfo=ZoneInfo(practice.location.timezone)),
        preferred_location=practice.location,
    )


def test_a_hold_past_the_tiers_window_is_refused_as_its_booking_would_be(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9), tier="urgent"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == OutsideTierWindow.code
    assert "window_override_reason" in response.json()["error"]["fields"]
    assert not Hold.objects.exists()


def test_a_hold_past_the_window_with_a_reason_books_and_the_booking_inherits_the_reason(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    held = scheduler_client.post(
        "/api/v1/holds/",
        slot(bookable, bookable.at(9), tier="urgent", window_override_reason="Patient away until then"),
    )
    assert held.status_code == 201, held.json()
    assert held.json()["window_override_reason"] == "Patient away until then"
    booked = scheduler_client.post(
        "/api/v1/appointments/",
        slot(bookable, bookable.at(9), tier="urgent", patient=bookable.patient.id, hold=held.json()["id"]),
    )
    assert booked.status_code == 201, booked.json()
    assert booked.json()["within_window"] is False
    assert booked.json()["window_override_reason"] == "Patient away until then"


def test_a_hold_for_a_patient_already_seen_at_that_time_is_refused(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    elsewhere = BlockFactory(location=bookable.location, weekday=0, start=dt.time(8), end=dt.time(12))
    first = scheduler_client.post(
        "/api/v1/appointments/",
        slot(bookable, bookable.at(9), surgeon=elsewhere.surgeon_id, patient=bookable.patient.id),
    )
    assert first.status_code == 201, first.json()
    response = scheduler_client.post(
        "/api/v1/holds/", slot(bookable, bookable.at(9, 15), patient=bookable.patient.id)
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == PatientUnavailable.code
    assert "patient" in response.json()["error"]["fields"]
    # Without a patient the slot is only kept, as before: whoever books it is checked then.
    assert scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9, 15))).status_code == 201


def test_a_hold_from_a_referral_is_judged_by_its_due_date(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    late = refer(bookable, 15)  # day 15 of 14 on the visit's day, though within two weeks of now
    response = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9), referral=late.id))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == OutsideTierWindow.code
    assert dt.datetime.fromisoformat(response.json()["error"]["window_end"]) == late.due_by


def test_a_hold_from_a_referral_books_for_its_patient_and_schedules_the_referral(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, 10)
    held = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9), referral=referral.id))
    assert held.status_code == 201, held.json()
    assert held.json()["patient"] == referral.patient_id
    booked = scheduler_client.post(
        "/api/v1/appointments/",
        slot(bookable, bookable.at(9), patient=referral.patient_id, hold=held.json()["id"]),
    )
    assert booked.status_code == 201, booked.json()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SCHEDULED
    assert referral.appointment_id == booked.json()["id"]


def test_a_booking_naming_another_referral_than_its_hold_is_refused(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, 10)
    other = refer(bookable, 12)
    held = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9), referral=referral.id))
    response = scheduler_client.post(
        "/api/v1/appointments/",
        slot(
            bookable, bookable.at(9), patient=bookable.patient.id, hold=held.json()["id"], referral=other.id
        ),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == HoldMismatch.code
    assert "referral" in response.json()["error"]["fields"]
    assert not Appointment.objects.exists()


def test_a_hold_from_another_patients_referral_is_refused_naming_the_field(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, 10, patient=PatientFactory())
    response = scheduler_client.post(
        "/api/v1/holds/", slot(bookable, bookable.at(9), patient=bookable.patient.id, referral=referral.id)
    )
    assert response.status_code == 400
    assert "referral" in response.json()["error"]["fields"]
