"""A visit's texts are written by one statement on PostgreSQL and by the ORM elsewhere; both
write the same outbox rows, link the same follow-up window and report the same rows due now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from booking.models import Appointment, FollowUpWindow, Patient, Surgery
from locations.models import Location
from notifications import services
from notifications.models import Message, MessageKind
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, SurgeonFactory

pytestmark = pytest.mark.django_db

# Monday 2027-03-08 09:00 in Chicago. The visit is Wednesday 07:30 local: the 72-hour reminder
# would be due before now (skipped), and the 24-hour one falls in quiet hours (moved to 08:00).
NOW = dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC)
VISIT = dt.datetime(2027, 3, 10, 13, 30, tzinfo=dt.UTC)

Writer = Callable[..., list[int]]
WRITERS: dict[str, Writer] = {
    "orm": services._visit_texts_write_orm,
    "postgresql": services._visit_texts_write_postgresql,
}
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
    surgery = Surgery.objects.create(
        patient=patient, surgeon=appointment.surgeon, performed_on=dt.date(2027, 1, 1), procedure="Internal"
    )
    # Two open windows cover the visit's day: the earlier-opening one is fulfilled.
    FollowUpWindow.objects.create(
        surgery=surgery, label="6w", opens_on=dt.date(2027, 2, 1), closes_on=dt.date(2027, 4, 1)
    )
    FollowUpWindow.objects.create(
        surgery=surgery, label="8w", opens_on=dt.date(2027, 2, 20), closes_on=dt.date(2027, 4, 20)
    )
    # A STOP (or a withdrawn consent) lands after the booking loaded the patient.
    Patient.objects.filter(pk=patient.pk).update(**patient_state)
    return appointment


# Columns that differ between the twins by construction (their own ids, and insert times).
TWIN_COLUMNS = {"id", "patient_id", "appointment_id", "created_at", "updated_at"}


def _written(appointment: Appointment, due: list[int]) -> dict[str, Any]:
    prefix = f"appointment:{appointment.pk}:"
    rows = [
        {key: value for key, value in row.items() if key not in TWIN_COLUMNS}
        for row in Message.objects.filter(appointment=appointment).order_by("dedupe_key").values()
    ]
    return {
        "rows": [{**row, "dedupe_key": row["dedupe_key"].removeprefix(prefix)} for row in rows],
        "due": sorted(Message.objects.get(pk=pk).kind for pk in due),
        "fulfils": list(
            FollowUpWindow.objects.filter(appointment=appointment).values_list("label", flat=True)
        ),
        "open": sorted(
            FollowUpWindow.objects.filter(
                surgery__patient=appointment.patient, appointment__isnull=True
            ).values_list("label", flat=True)
        ),
    }


@pytest.mark.postgresql  # runs the one-statement PostgreSQL writer beside the ORM one
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("state", PATIENTS.values(), ids=PATIENTS.keys())
def test_both_writers_write_the_same_texts_and_link_the_same_follow_up(state: dict[str, Any]) -> None:
    written = {}
    location = LocationFactory(timezone="America/Chicago")
    for name, writer in WRITERS.items():
        appointment = _visit(state, location)
        texts = services._visit_texts(visit=appointment, kind=MessageKind.CONFIRMATION, now=timezone.now())
        due = writer(appointment=appointment, texts=texts, now=timezone.now())
        written[name] = _written(appointment, due)
    assert written["postgresql"] == written["orm"]
    rows = written["postgresql"]["rows"]
    assert [row["kind"] for row in rows] == ["confirmation", "reminder"]
    assert rows[1]["due_at"] == dt.datetime(2027, 3, 9, 14, 0, tzinfo=dt.UTC)  # 08:00 Chicago, not 07:30
    assert written["postgresql"]["fulfils"] == ["6w"]
    if state == PATIENTS["consenting"]:
        assert written["postgresql"]["due"] == ["confirmation"]
        assert {row["status"] for row in rows} == {"pending"}
    else:
        assert written["postgresql"]["due"] == []
        assert {row["status"] for row in rows} == {"suppressed"}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("name", ["orm", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_writing_a_visits_texts_twice_writes_them_once(name: str) -> None:
    """A hook run twice (a retried task) adds no row; at most it reports the same row again,
    which the sender's conditional claim sends once."""
    appointment = _visit(PATIENTS["consenting"], LocationFactory(timezone="America/Chicago"))
    texts = services._visit_texts(visit=appointment, kind=MessageKind.CONFIRMATION, now=timezone.now())
    first = WRITERS[name](appointment=appointment, texts=texts, now=timezone.now())
    second = WRITERS[name](appointment=appointment, texts=texts, now=timezone.now())
    assert len(first) == 1
    assert set(second) <= set(first)
    assert Message.objects.filter(appointment=appointment).count() == 2
