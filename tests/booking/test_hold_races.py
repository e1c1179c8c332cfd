"""Racing holds on real connections, one thread each: a slot is held or booked once, never twice.

These commit for real (transaction=True): the surgeon's transaction lock and the holds' exclusion
constraint are what decides, as in production.
"""

from __future__ import annotations

from typing import Any

import pytest

from booking.models import ACTIVE_STATUSES, Appointment, Hold
from booking.services import SlotUnavailable
from tests.booking.test_concurrency import book, booking, outcome, race
from tests.factories import BookablePractice, PatientFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgresql]

HOLDERS = 20


def hold_body(practice: BookablePractice, **overrides: Any) -> dict[str, Any]:
    return {
        "surgeon": practice.surgeon.id,
        "location": practice.location.id,
        "appointment_type": practice.visit.code,
        "tier": "standard",
        "start": practice.at(9).isoformat(),
        **overrides,
    }


def test_twenty_racing_holds_of_one_slot_hold_it_once(bookable: BookablePractice) -> None:
    responses = race(
        [lambda client: client.post("/api/v1/holds/", hold_body(bookable)) for _ in range(HOLDERS)]
    )
    assert outcome(responses) == {201: 1, 409: HOLDERS - 1}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {SlotUnavailable.code}
    assert Hold.objects.count() == 1


def test_holds_racing_bookings_of_one_slot_leave_one_winner(bookable: BookablePractice) -> None:
    patients = PatientFactory.create_batch(HOLDERS // 2)
    requests = [lambda client: client.post("/api/v1/holds/", hold_body(bookable)) for _ in patients]
    requests += [book(booking(bookable, bookable.at(9), patient=patient.id)) for patient in patients]
    responses = race(requests)
    assert outcome(responses) == {201: 1, 409: HOLDERS - 1}
    held = Hold.objects.count()
    booked = Appointment.objects.filter(surgeon=bookable.surgeon, status__in=ACTIVE_STATUSES).count()
    assert held + booked == 1
