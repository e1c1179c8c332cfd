"""A visit's texts: the notice and its reminders, written once, with the patient's consent read
when they are written (not when the booking loaded the patient)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from booking.models import Appointment, Patient
from locations.models import Location
from notifications import reactions
from notifications.models import Message
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, SurgeonFactory

pytestmark = pytest.mark.django_db

# Monday 2027-03-08 09:00 in Chicago. The visit is Wednesday 07:30 local: the 72-hour reminder
# would be due before now (skipped), and the 24-hour one falls in quiet hours (moved to 08:00).
NOW = dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC)
VISIT = dt.datetime(2027, 3, 10, 13, 30, tzinfo=dt.UTC)

PATIENTS = {
    "consenting": {"sms_consent": True},
    "opted out": {"sms_consent": True, "sms_opted_out_at": NOW - dt.timedelta(days=1)},
    "without consent": {"sms_consent": False},
}


def _visit(patient_state: dict[str, Any], location: Location) -> Appointment:
    patient = PatientFactory(phone="+13125550142", sms_consent=True)
    appointment = AppointmentFactory(
        patient=patient, surgeon=SurgeonFactory(), location=location, start=VISIT
    )
    # A STOP (or a withdrawn consent) lands after the booking loaded the patient.
    Patient.objects.filter(pk=patient.pk).update(**patient_state)
    return appointment


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("state", PATIENTS.values(), ids=PATIENTS.keys())
def test_a_visits_texts_follow_the_patients_consent_as_it_is_when_written(state: dict[str, Any]) -> None:
    appointment = _visit(state, LocationFactory(timezone="America/Chicago"))
    due = reactions.visit_booked(appointment=appointment)
    rows = list(Message.objects.filter(appointment=appointment).order_by("due_at"))
    assert [row.kind for row in rows] == ["confirmation", "reminder"]
    assert rows[1].due_at == dt.datetime(2027, 3, 9, 14, 0, tzinfo=dt.UTC)  # 08:00 Chicago, not 07:30
    if state == PATIENTS["consenting"]:
        assert due == [rows[0].pk]
        assert {row.status for row in rows} == {"pending"}
    else:
        assert due == []
        assert {row.status for row in rows} == {"suppressed"}


@time_machine.travel(NOW, tick=False)
def test_writing_a_visits_texts_twice_writes_them_once() -> None:
    """A reaction run twice (a retried task) adds no row; at most it reports the same row again,
    which the sender's conditional claim sends once."""
    appointment = _visit(PATIENTS["consenting"], LocationFactory(timezone="America/Chicago"))
    first = reactions.visit_booked(appointment=appointment)
    second = reactions.visit_booked(appointment=appointment)
    assert len(first) == 1
    assert set(second) <= set(first)
    assert Message.objects.filter(appointment=appointment).count() == 2
