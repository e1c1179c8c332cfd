"""Moving a visit: a new appointment and the old one cancelled with a link, or nothing at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus
from booking.services import (
    RESCHEDULED_REASON,
    InvalidTransition,
    OutsideTierWindow,
    PatientUnavailable,
    SlotUnavailable,
)
from tests.factories import AppointmentFactory, AppointmentTypeFactory, BlockFactory, BookablePractice

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(bookable: BookablePractice, scheduler_client: APIClient) -> Appointment:
    response = scheduler_client.post(
        "/api/v1/appointments/",
        {
            "patient": bookable.patient.id,
            "surgeon": bookable.surgeon.id,
            "location": bookable.location.id,
            "appointment_type": bookable.visit.code,
            "tier": "standard",
            "start": bookable.at(9).isoformat(),
            "reason": "Post-op check",
        },
    )
    assert response.status_code == 201, response.json()
    return Appointment.objects.get(pk=response.json()["id"])


def move(client: APIClient, appointment: Appointment, start: dt.datetime, **extra: Any):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/appointments/{appointment.id}/reschedule/", {"start": start.isoformat(), **extra}
    )


def test_a_reschedule_books_the_new_time_and_cancels_the_old_with_a_link(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    response = move(scheduler_client, visit, bookable.at(10))
    assert response.status_code == 201, response.json()
    new = Appointment.objects.get(pk=response.json()["id"])
    visit.refresh_from_db()
    assert (new.start, new.status, new.rescheduled_from_id) == (
        bookable.at(10),
        AppointmentStatus.BOOKED,
        visit.id,
    )
    assert (new.patient_id, new.tier_id, new.reason) == (visit.patient_id, visit.tier_id, "Post-op check")
    assert visit.status == AppointmentStatus.CANCELLED
    assert visit.cancellation_reason == RESCHEDULED_REASON
    assert visit.late_cancellation is False
    detail = scheduler_client.get(f"/api/v1/appointments/{visit.id}/").json()
    assert detail["rescheduled_to"] == new.id


def test_a_visit_moves_by_a_quarter_hour_over_its_own_time(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    response = move(scheduler_client, visit, bookable.at(9, 15))
    assert response.status_code == 201, response.json()


def test_a_reschedule_may_change_surgeon_and_type(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    other = BlockFactory(location=bookable.location, weekday=0, start=dt.time(13), end=dt.time(16))
    imaging = AppointmentTypeFactory(code="imaging-review", name="Imaging review", duration_minutes=45)
    response = move(
        scheduler_client, visit, bookable.at(14), surgeon=other.surgeon_id, appointment_type=imaging.code
    )
    assert response.status_code == 201, response.json()
    assert response.json()["surgeon"] == other.surgeon_id
    assert dt.datetime.fromisoformat(response.json()["end"]) == bookable.at(14, 45)


def test_a_refused_new_slot_leaves_the_old_visit_untouched(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    AppointmentFactory(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        start=bookable.at(10),
    )
    before = Appointment.objects.values().get(pk=visit.pk)
    response = move(scheduler_client, visit, bookable.at(10))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == SlotUnavailable.code
    assert Appointment.objects.values().get(pk=visit.pk) == before
    assert Appointment.objects.count() == 2


def test_a_new_slot_clashing_with_the_patients_other_visit_changes_nothing(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    elsewhere = BlockFactory(location=bookable.location, weekday=0, start=dt.time(8), end=dt.time(12))
    AppointmentFactory(
        patient=bookable.patient, surgeon=elsewhere.surgeon, location=bookable.location, start=bookable.at(11)
    )
    response = move(scheduler_client, visit, bookable.at(11))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == PatientUnavailable.code
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_the_tiers_window_counts_from_the_first_booking(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    # Booked on 1 March, standard tier: the window closes at the end of 15 March, local time.
    BlockFactory(
        surgeon=bookable.surgeon, location=bookable.location, weekday=1, start=dt.time(8), end=dt.time(12)
    )
    late_tuesday = bookable.at(9, day=dt.date(2027, 3, 16))
    with time_machine.travel(dt.datetime(2027, 3, 5, 12, tzinfo=dt.UTC)):  # inside a window from today
        response = move(scheduler_client, visit, late_tuesday)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == OutsideTierWindow.code
    response = move(scheduler_client, visit, late_tuesday, window_override_reason="Patient's request")
    assert response.status_code == 201
    assert response.json()["within_window"] is False


@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED])
def test_only_a_booked_or_confirmed_visit_can_move(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment, status: str
) -> None:
    Appointment.objects.filter(pk=visit.pk).update(status=status)
    response = move(scheduler_client, visit, bookable.at(10))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == InvalidTransition.code
    assert response.json()["error"]["status"] == status


def test_a_reschedule_without_a_start_is_a_400(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    response = scheduler_client.post(f"/api/v1/appointments/{visit.id}/reschedule/", {})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["start"]


@pytest.mark.parametrize(
    "start",
    ["2027-02-30T09:00:00Z", "2027-03-08T25:00:00Z", "2027-03-08T09:00:00+99:00", "9999-12-31T23:45:00Z"],
)
def test_an_impossible_new_start_is_a_400_naming_start_and_changes_nothing(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment, start: str
) -> None:
    response = scheduler_client.post(f"/api/v1/appointments/{visit.id}/reschedule/", {"start": start})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["start"]
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_confirming_a_rescheduled_visit_is_a_409_pointing_to_the_visit_that_replaced_it(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    new_id = move(scheduler_client, visit, bookable.at(10)).json()["id"]
    response = scheduler_client.post(f"/api/v1/appointments/{visit.id}/confirm/")
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["status"], error["rescheduled_to"]) == (
        InvalidTransition.code,
        "cancelled",
        new_id,
    )
    assert f"rescheduled to appointment {new_id} on " in error["message"]
    assert "confirm that one" in error["message"]
    assert Appointment.objects.get(pk=new_id).status == AppointmentStatus.BOOKED


def test_confirming_a_visit_moved_twice_points_to_the_last_move(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    second_id = move(scheduler_client, visit, bookable.at(10)).json()["id"]
    third_id = move(scheduler_client, Appointment.objects.get(pk=second_id), bookable.at(11)).json()["id"]
    response = scheduler_client.post(f"/api/v1/appointments/{visit.id}/confirm/")
    assert response.status_code == 409
    assert response.json()["error"]["rescheduled_to"] == third_id


def test_a_cancelled_visit_that_was_not_moved_is_refused_without_a_replacement(
    scheduler_client: APIClient, visit: Appointment
) -> None:
    scheduler_client.post(f"/api/v1/appointments/{visit.id}/cancel/", {"reason": "Feeling better"})
    response = scheduler_client.post(f"/api/v1/appointments/{visit.id}/confirm/")
    assert response.status_code == 409
    assert "rescheduled_to" not in response.json()["error"]


def test_a_scheduler_moves_a_visit_into_the_slot_they_hold_and_the_hold_is_used_up(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    held = scheduler_client.post(
        "/api/v1/holds/",
        {
            "surgeon": bookable.surgeon.id,
            "location": bookable.location.id,
            "appointment_type": bookable.visit.code,
            "tier": "standard",
            "start": bookable.at(10).isoformat(),
            "patient": bookable.patient.id,
        },
    ).json()
    response = move(scheduler_client, visit, bookable.at(10), hold=held["id"])
    assert response.status_code == 201, response.json()
    assert Appointment.objects.get(pk=response.json()["id"]).start == bookable.at(10)
    assert scheduler_client.get(f"/api/v1/holds/{held['id']}/").status_code == 404


def test_a_move_with_a_hold_for_another_time_is_refused_and_the_visit_stays(
    bookable: BookablePractice, scheduler_client: APIClient, visit: Appointment
) -> None:
    held = scheduler_client.post(
        "/api/v1/holds/",
        {
            "surgeon": bookable.surgeon.id,
            "location": bookable.location.id,
            "appointment_type": bookable.visit.code,
            "tier": "standard",
            "start": bookable.at(11).isoformat(),
        },
    ).json()
    response = move(scheduler_client, visit, bookable.at(10), hold=held["id"])
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"]["start"]
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert scheduler_client.get(f"/api/v1/holds/{held['id']}/").status_code == 200
