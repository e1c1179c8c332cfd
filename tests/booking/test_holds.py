"""Holds: a slot kept for a few minutes disappears from search, and only a booking naming the
hold takes it; expiry frees it with no task running."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from booking.models import Appointment, Hold
from booking.selectors import slots_free
from booking.services import HoldExpired, HoldMismatch, SlotUnavailable, hold_create
from practice.models import AuditEntry
from tests.factories import BookablePractice, HoldFactory, PatientFactory, tier

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


def booking(practice: BookablePractice, start: dt.datetime, **overrides: Any) -> dict[str, Any]:
    return slot(practice, start, **{"patient": practice.patient.id, **overrides})


def free_starts(practice: BookablePractice) -> set[dt.datetime]:
    found = slots_free(
        appointment_type=practice.visit,
        start=practice.at(8),
        end=practice.at(12),
        surgeon_ids=[practice.surgeon.pk],
    )
    return {found_slot.start for found_slot in found}


def test_a_held_slot_disappears_from_search_for_everyone_else(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9)))
    assert response.status_code == 201, response.json()
    assert bookable.at(9) not in free_starts(bookable)
    assert bookable.at(9, 30) in free_starts(bookable)
    search = scheduler_client.get(
        "/api/v1/slots/",
        {"appointment_type": bookable.visit.code, "start": "2027-03-08", "end": "2027-03-08"},
    )
    assert bookable.at(9).isoformat() not in {found["start"] for found in search.json()}


def test_a_hold_lasts_hold_minutes(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    with override_settings(HOLD_MINUTES=7):
        body = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).json()
    held = dt.datetime.fromisoformat(body["expires_at"]) - dt.datetime.fromisoformat(body["created_at"])
    assert dt.timedelta(minutes=6, seconds=59) < held <= dt.timedelta(minutes=7, seconds=1)
    assert dt.datetime.fromisoformat(body["end"]) == bookable.at(9, 30)


def test_a_second_hold_of_a_held_slot_is_refused_with_the_next_free_ones(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9)))
    response = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9)))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == SlotUnavailable.code
    assert error["next_slots"][0]["start"] == bookable.at(9, 30).isoformat()


def test_a_booking_of_the_held_slot_with_the_hold_succeeds_and_uses_the_hold_up(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    hold = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).json()
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), hold=hold["id"])
    )
    assert response.status_code == 201, response.json()
    assert not Hold.objects.exists()
    assert scheduler_client.get(f"/api/v1/holds/{hold['id']}/").status_code == 404


def test_a_booking_of_the_held_slot_without_the_hold_is_refused(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9)))
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == SlotUnavailable.code
    assert not Appointment.objects.exists()


def test_a_booking_with_a_hold_for_another_slot_is_refused_naming_what_differs(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    hold = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).json()
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(10), hold=hold["id"])
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == HoldMismatch.code
    assert set(response.json()["error"]["fields"]) == {"start"}
    assert Hold.objects.filter(pk=hold["id"]).exists()


def test_a_hold_for_one_patient_cannot_book_another(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    hold = scheduler_client.post(
        "/api/v1/holds/", slot(bookable, bookable.at(9), patient=bookable.patient.id)
    ).json()
    other = PatientFactory()
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), hold=hold["id"], patient=other.id)
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"patient"}


def test_an_expired_hold_frees_its_slot_without_any_task(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    hold = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).json()
    with time_machine.travel(dt.datetime.fromisoformat(hold["expires_at"]) + dt.timedelta(seconds=1)):
        assert bookable.at(9) in free_starts(bookable)
        assert scheduler_client.get(f"/api/v1/holds/{hold['id']}/").status_code == 404
        again = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9)))
        assert again.status_code == 201, again.json()
    assert list(Hold.objects.values_list("id", flat=True)) == [again.json()["id"]]


def test_a_booking_with_an_expired_hold_is_a_409_hold_expired(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    hold = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).json()
    with time_machine.travel(dt.datetime.fromisoformat(hold["expires_at"]) + dt.timedelta(seconds=1)):
        response = scheduler_client.post(
            "/api/v1/appointments/", booking(bookable, bookable.at(9), hold=hold["id"])
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == HoldExpired.code
        # Without the hold, the freed slot books as any other.
        plain = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
        assert plain.status_code == 201, plain.json()


def test_a_released_hold_frees_its_slot_at_once(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    hold = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).json()
    assert scheduler_client.delete(f"/api/v1/holds/{hold['id']}/").status_code == 204
    assert bookable.at(9) in free_starts(bookable)
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), hold=hold["id"])
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == HoldExpired.code


def test_holding_is_idempotent_with_an_idempotency_key(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    body = slot(bookable, bookable.at(9))
    first = scheduler_client.post("/api/v1/holds/", body, HTTP_IDEMPOTENCY_KEY="portal-hold-1")
    second = scheduler_client.post("/api/v1/holds/", body, HTTP_IDEMPOTENCY_KEY="portal-hold-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert Hold.objects.count() == 1


def test_a_hold_outside_the_surgeons_blocks_is_refused(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(14)))
    assert response.status_code == 409
    assert not Hold.objects.exists()


def test_a_hold_needs_a_start_with_an_offset_and_known_references(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    body = {**slot(bookable, bookable.at(9), surgeon=999999), "start": "2027-03-08T09:00"}
    response = scheduler_client.post("/api/v1/holds/", body)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"start", "surgeon"}


def test_nobody_but_schedulers_holds_or_reads_holds(
    bookable: BookablePractice, anonymous_client: APIClient, scheduler_client: APIClient
) -> None:
    assert anonymous_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).status_code == 401
    hold = scheduler_client.post("/api/v1/holds/", slot(bookable, bookable.at(9))).json()
    assert anonymous_client.get(f"/api/v1/holds/{hold['id']}/").status_code == 401
    assert anonymous_client.delete(f"/api/v1/holds/{hold['id']}/").status_code == 401
    assert Hold.objects.count() == 1


def test_a_hold_for_a_patient_is_audited(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    hold = scheduler_client.post(
        "/api/v1/holds/", slot(bookable, bookable.at(9), patient=bookable.patient.id)
    ).json()
    scheduler_client.get(f"/api/v1/holds/{hold['id']}/")
    entries = AuditEntry.objects.filter(object_type="hold", object_id=hold["id"])
    assert sorted(entries.values_list("action", flat=True)) == ["create", "read"]
    assert set(entries.values_list("patient_id", flat=True)) == {bookable.patient.id}


def test_a_hold_at_a_reserved_block_needs_the_reserved_tier(bookable: BookablePractice) -> None:
    block = bookable.surgeon.blocks.get()
    block.reserved_for_tier = tier("urgent")
    block.release_hours_before = 24
    block.save()
    with pytest.raises(SlotUnavailable):
        hold_create(
            surgeon=bookable.surgeon,
            location=bookable.location,
            appointment_type=bookable.visit,
            tier=tier("standard"),
            start=bookable.at(9),
        )
    held = hold_create(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        tier=tier("urgent"),
        start=bookable.at(9),
        # A week away is past the urgent window: a hold, like its booking, needs a reason.
        window_override_reason="First day the patient can travel",
    )
    assert held.expires_at > held.created_at


@pytest.mark.postgresql
def test_the_database_refuses_two_overlapping_holds_of_one_surgeon(bookable: BookablePractice) -> None:
    HoldFactory(surgeon=bookable.surgeon, location=bookable.location, start=bookable.at(9))
    with pytest.raises(IntegrityError), transaction.atomic():
        HoldFactory(surgeon=bookable.surgeon, location=bookable.location, start=bookable.at(9, 15))
    assert connection.vendor == "postgresql"
