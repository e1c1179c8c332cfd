"""`insert_with_history` writes on PostgreSQL, in one statement, the rows `save()` and
simple-history's signal write: the visit and its "+" history row, with the same user."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test import RequestFactory
from pytest_django import DjangoAssertNumQueries
from simple_history.models import HistoricalRecords

from booking.models import Appointment
from practice.db import insert_with_history
from tests.factories import AppointmentFactory, PatientFactory, SchedulerFactory

pytestmark = pytest.mark.django_db

# Columns that differ between two twin rows by construction.
DIFFERING = {
    "id",
    "history_id",
    "history_date",
    "booked_at",
    "updated_at",
    "start",
    "end",
    "busy_until",
    "patient_id",
}


def _twin(template: Appointment, hours: int) -> Appointment:
    start = template.start + dt.timedelta(hours=hours)
    return Appointment(
        patient=PatientFactory(),
        surgeon=template.surgeon,
        location=template.location,
        appointment_type=template.appointment_type,
        tier=template.tier,
        start=start,
        end=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=40),
        reason="Internal note",
        within_window=False,
        window_override_reason="Patient asked for after the holidays",
        booked_by=template.booked_by,
    )


def _row(model: Any, **lookup: Any) -> dict[str, Any]:
    values = model.objects.filter(**lookup).values().get()
    return {key: value for key, value in values.items() if key not in DIFFERING}


def test_the_visit_and_its_history_row_match_what_save_writes(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    scheduler = SchedulerFactory()
    template = AppointmentFactory(booked_by=scheduler)
    saved, inserted = _twin(template, 5), _twin(template, 8)
    for appointment in (saved, inserted):
        appointment._history_user = scheduler  # type: ignore[attr-defined]
        appointment._change_reason = "Booked by phone"  # type: ignore[attr-defined]

    saved.save()
    # The visit and its history row: one statement on PostgreSQL, save() and its signal elsewhere.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        insert_with_history(inserted)

    assert inserted.pk is not None and not inserted._state.adding
    stored = Appointment.objects.get(pk=inserted.pk)
    assert stored.booked_at == inserted.booked_at
    assert stored.start == inserted.start
    assert _row(Appointment, pk=inserted.pk) == _row(Appointment, pk=saved.pk)
    history = Appointment.history.model
    assert _row(history, id=inserted.pk) == _row(history, id=saved.pk)
    written = history.objects.get(id=inserted.pk)
    assert (written.history_type, written.history_user, written.history_change_reason) == (
        "+",
        scheduler,
        "Booked by phone",
    )
    assert written.booked_at == stored.booked_at


def test_without_a_history_user_the_requests_user_is_recorded_as_save_records_it(
    rf: RequestFactory,
) -> None:
    scheduler = SchedulerFactory()
    template = AppointmentFactory()
    saved, inserted = _twin(template, 5), _twin(template, 8)
    request = rf.post("/api/v1/appointments/")
    request.user = scheduler
    HistoricalRecords.context.request = request  # what HistoryRequestMiddleware does
    try:
        saved.save()
        insert_with_history(inserted)
    finally:
        del HistoricalRecords.context.request
    history = Appointment.history.model
    assert history.objects.get(id=saved.pk).history_user == scheduler
    assert history.objects.get(id=inserted.pk).history_user == scheduler


@pytest.mark.postgresql  # the patient's exclusion constraint refuses the insert
def test_a_refused_insert_leaves_neither_the_visit_nor_its_history() -> None:
    template = AppointmentFactory()
    clash = _twin(template, 0)
    clash.patient = template.patient
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_with_history(clash)
    assert Appointment.objects.count() == 1
    assert Appointment.history.count() == 1


def test_appointment_has_no_save_receiver_but_history_which_the_insert_writes_itself() -> None:
    """The one-statement insert sends no signal: a new receiver would be silently skipped."""
    receivers = [receiver for group in post_save._live_receivers(Appointment) for receiver in group]
    assert receivers
    assert all(isinstance(getattr(receiver, "__self__", None), HistoricalRecords) for receiver in receivers)
