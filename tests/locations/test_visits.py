"""The port through which locations asks about booked visits (`locations.visits`)."""

from __future__ import annotations

import datetime as dt

import pytest

from booking.models import Appointment
from locations import visits
from locations.visits import CONFLICT_OUTSIDE_HOURS
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ahead() -> Appointment:
    """A visit next week at a location with no opening hours: a conflict, outside hours."""
    return AppointmentFactory(start=dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=7))


def test_without_an_app_booking_visits_there_are_no_conflicts_and_none_to_come(
    monkeypatch: pytest.MonkeyPatch, ahead: Appointment
) -> None:
    monkeypatch.setattr(visits._registry, "answers", None)
    assert visits.conflicts(surgeon_id=ahead.surgeon_id) == []
    assert visits.future_visits_exist(location_id=ahead.location_id) is False


def test_booking_answers_once_installed(ahead: Appointment) -> None:
    assert visits.future_visits_exist(surgeon_id=ahead.surgeon_id, location_id=ahead.location_id) is True
    conflicts = visits.conflicts(location_id=ahead.location_id)
    assert [(conflict.appointment, conflict.reason) for conflict in conflicts] == [
        (ahead, CONFLICT_OUTSIDE_HOURS)
    ]
