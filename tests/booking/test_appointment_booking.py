"""Booking a visit through the API: the slot is re-validated with slot search's own code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from booking.availability import REFUSAL_NOT_IN_BLOCK, REFUSAL_OUTSIDE_HOURS
from booking.models import Appointment, AppointmentStatus
from booking.selectors import slots_free
from booking.services import (
    InactiveReference,
    OutsideTierWindow,
    PatientUnavailable,
    SlotUnavailable,
    appointment_book,
    appointments,
)
from locations.models import Location, Surgeon
from tests.factories import (
    AppointmentFactory,
    BlockFactory,
    BookablePractice,
    ClosureFactory,
    PatientFactory,
    TimeOffFactory,
    tier,
)

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


def test_a_scheduler_books_a_free_slot(
    bookable: BookablePractice, scheduler_client: APIClient, scheduler: User
) -> None:
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), reason="L4-L5 disc, second opinion")
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == AppointmentStatus.BOOKED
    assert dt.datetime.fromisoformat(body["start"]) == bookable.at(9)
    assert dt.datetime.fromisoformat(body["end"]) == bookable.at(9, 30)
    assert body["within_window"] is True
    assert body["booked_by"] == scheduler.username
    appointment = Appointment.objects.get(pk=body["id"])
    assert appointment.reason == "L4-L5 disc, second opinion"
    assert appointment.busy_until == appointment.end


def test_busy_until_includes_the_visit_types_buffer(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bookable.visit.buffer_minutes = 15
    bookable.visit.save()
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert dt.datetime.fromisoformat(response.json()["busy_until"]) == bookable.at(9, 45)


def test_a_taken_slot_is_a_409_offering_the_next_free_slots(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    first = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert first.status_code == 201
    other = PatientFactory()
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), patient=other.id)
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == SlotUnavailable.code
    offered = [dt.datetime.fromisoformat(slot["start"]) for slot in error["next_slots"]]
    assert offered[:2] == [bookable.at(9, 30), bookable.at(9, 45)]
    assert all(slot["surgeon"] == bookable.surgeon.id for slot in error["next_slots"])
    assert Appointment.objects.count() == 1


def test_an_overlapping_start_for_the_same_surgeon_is_a_409(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    AppointmentFactory(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        start=bookable.at(9),
    )
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9, 15)))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == SlotUnavailable.code


@pytest.mark.postgresql  # the exclusion constraint refuses it; SQLite's guard is the check bypassed here
@pytest.mark.parametrize("headers", [{}, {"HTTP_IDEMPOTENCY_KEY": "clash-1"}], ids=["plain", "idempotent"])
def test_a_clash_the_slot_check_misses_is_refused_by_the_database_as_a_409(
    bookable: BookablePractice,
    scheduler_client: APIClient,
    monkeypatch: pytest.MonkeyPatch,
    headers: dict[str, str],
) -> None:
    # As when a concurrent booking commits between the check and the insert.
    AppointmentFactory(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        start=bookable.at(9),
    )
    monkeypatch.setattr(appointments, "slot_refusal", lambda **kwargs: None)
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9, 15)), **headers
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == SlotUnavailable.code
    assert dt.datetime.fromisoformat(error["next_slots"][0]["start"]) == bookable.at(9, 30)
    assert Appointment.objects.count() == 1


def test_any_other_integrity_error_while_booking_is_a_409_not_a_500(
    bookable: BookablePractice, scheduler_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deleted_meanwhile(**kwargs: Any) -> None:
        raise IntegrityError('insert violates foreign key constraint "booking_appointment_patient_id_fk"')

    monkeypatch.setattr(appointments, "event_record", deleted_meanwhile)
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert response.status_code == 409
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("start_hour", "code"),
    [(7, REFUSAL_OUTSIDE_HOURS), (12, REFUSAL_NOT_IN_BLOCK), (17, REFUSAL_OUTSIDE_HOURS)],
    ids=["before the block", "after the block", "after opening hours"],
)
def test_a_start_outside_the_surgeons_block_is_a_409(
    bookable: BookablePractice, scheduler_client: APIClient, start_hour: int, code: str
) -> None:
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(start_hour)))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code


def test_a_start_off_the_grid_is_a_409(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9, 7)))
    assert response.status_code == 409


def test_a_closed_day_is_a_409(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    ClosureFactory(
        location=bookable.location, start_date=bookable.at(9).date(), end_date=bookable.at(9).date()
    )
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert response.status_code == 409


def test_the_surgeons_time_off_is_a_409(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    TimeOffFactory(surgeon=bookable.surgeon, start=bookable.at(8), end=bookable.at(12))
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert response.status_code == 409


def test_a_start_in_the_past_is_a_409(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    last_monday = bookable.at(9, day=dt.date(2027, 2, 22))
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, last_monday))
    assert response.status_code == 409


def test_a_slot_reserved_for_urgent_patients_is_refused_to_a_standard_one(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    reserved = BlockFactory(
        location=bookable.location,
        weekday=1,
        start=dt.time(8),
        end=dt.time(12),
        reserved_for_tier=tier("urgent"),
        release_hours_before=48,
    )
    tuesday = bookable.at(9, day=dt.date(2027, 3, 9))
    standard = booking(bookable, tuesday, surgeon=reserved.surgeon_id)
    assert scheduler_client.post("/api/v1/appointments/", standard).status_code == 409
    urgent = {**standard, "tier": "urgent", "window_override_reason": "Patient travelling until then"}
    assert scheduler_client.post("/api/v1/appointments/", urgent).status_code == 201


def test_the_same_patient_cannot_be_in_two_places_at_once(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    elsewhere = BlockFactory(location=bookable.location, weekday=0, start=dt.time(8), end=dt.time(12))
    first = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert first.status_code == 201
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9, 15), surgeon=elsewhere.surgeon_id)
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == PatientUnavailable.code


def test_past_the_tiers_window_it_is_refused_without_an_override_reason(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), tier="urgent")
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == OutsideTierWindow.code
    assert "window_override_reason" in response.json()["error"]["fields"]
    assert not Appointment.objects.exists()


def test_past_the_tiers_window_an_override_reason_books_and_is_recorded(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = scheduler_client.post(
        "/api/v1/appointments/",
        booking(
            bookable, bookable.at(9), tier="urgent", window_override_reason="Patient asked for this date"
        ),
    )
    assert response.status_code == 201
    assert response.json()["within_window"] is False
    assert response.json()["window_override_reason"] == "Patient asked for this date"


def test_an_override_reason_inside_the_window_is_not_recorded(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), window_override_reason="not needed")
    )
    assert response.json()["within_window"] is True
    assert response.json()["window_override_reason"] == ""


def test_a_naive_start_is_a_400_naming_start(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    response = scheduler_client.post(
        "/api/v1/appointments/", {**booking(bookable, bookable.at(9)), "start": "2027-03-08T09:00:00"}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["start"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patient", 999999),
        ("surgeon", 999999),
        ("location", 999999),
        ("appointment_type", "no-such-type"),
        ("tier", "no-such-tier"),
        ("start", "next tuesday"),
        ("start", "2027-02-30T09:00:00Z"),
        ("start", "2027-03-08T25:00:00Z"),
        ("start", "2027-03-08T09:00:00+99:00"),
        ("start", "9999-12-31T23:45:00Z"),
        ("start", None),
        ("start", 1804496400),
        ("patient", None),
        ("patient", 99999999999999999999),
        ("appointment_type", "follow\x00up"),
        ("tier", "\x00"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    bookable: BookablePractice, scheduler_client: APIClient, field: str, value: object
) -> None:
    response = scheduler_client.post(
        "/api/v1/appointments/", {**booking(bookable, bookable.at(9)), field: value}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_an_inactive_surgeon_cannot_be_booked(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bookable.surgeon.is_active = False
    bookable.surgeon.save()
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == InactiveReference.code
    assert "surgeon" in response.json()["error"]["fields"]


def test_every_slot_search_offers_is_bookable(bookable: BookablePractice) -> None:
    BlockFactory(location=bookable.location, weekday=2, start=dt.time(13), end=dt.time(16, 30))
    AppointmentFactory(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        start=bookable.at(10),
    )
    slots = slots_free(
        appointment_type=bookable.visit,
        tier=tier("standard"),
        start=bookable.at(0),
        end=bookable.at(0, day=dt.date(2027, 3, 11)),
    )
    assert len(slots) > 20
    for slot in slots:
        # Each offer on its own: booking one takes the overlapping offers with it.
        with transaction.atomic():
            appointment_book(
                patient=bookable.patient,
                surgeon=Surgeon.objects.get(pk=slot.surgeon_id),
                location=Location.objects.get(pk=slot.location_id),
                appointment_type=bookable.visit,
                tier=tier("standard"),
                start=slot.start,
            )
            transaction.set_rollback(True)


def test_a_booked_slot_disappears_from_search(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    def search() -> list[dt.datetime]:
        slots = slots_free(
            appointment_type=bookable.visit, tier=tier("standard"), start=bookable.at(0), end=bookable.at(23)
        )
        return [slot.start for slot in slots]

    assert bookable.at(9) in search()
    scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert bookable.at(9) not in search()
    assert bookable.at(8, 45) not in search()  # a 30-minute visit at 08:45 would run into it
    assert bookable.at(9, 30) in search()


def test_a_visit_carries_its_start_in_utc_and_in_the_clinics_local_time(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    booked = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9))).json()
    assert booked["start"] == "2027-03-08T15:00:00Z"
    assert booked["start_local"] == "2027-03-08T09:00:00-06:00"
    listed = scheduler_client.get("/api/v1/appointments/").json()["results"]
    assert [row["start_local"] for row in listed] == ["2027-03-08T09:00:00-06:00"]
