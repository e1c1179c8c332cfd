"""Surgeries and their post-operative follow-up windows, which a visit inside one fulfils."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction

from booking.models import ACTIVE_STATUSES, Appointment, FollowUpWindow, Patient, Surgery
from locations.models import Surgeon
from practice.clock import practice_today
from practice.errors import InvalidInput


def _plan_offset(item: str) -> relativedelta:
    number, unit = int(item[:-1]), item[-1]
    return {
        "d": relativedelta(days=number),
        "w": relativedelta(weeks=number),
        "m": relativedelta(months=number),
        "y": relativedelta(years=number),
    }[unit]


def _window_dates(item: str, performed_on: dt.date) -> tuple[dt.date, dt.date]:
    opens = performed_on + _plan_offset(item)
    span = (opens - performed_on).days
    return opens, opens + dt.timedelta(days=max(7, span // 4))


def follow_up_plan(*, performed_on: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The windows (label, opens, closes): each opens at its offset and stays open a quarter of
    that span (at least a week), so a 6-week visit may be booked up to about 8 weeks out."""
    return [(item, *_window_dates(item, performed_on)) for item in settings.FOLLOW_UP_PLAN]


def _check_performed_on(performed_on: dt.date) -> None:
    # A follow-up plan counts from the day of a surgery that happened; a planned one has no
    # windows yet, and its plan would remind the patient to book before the operation.
    today = practice_today()
    if performed_on > today:
        raise InvalidInput.for_field(
            "performed_on",
            f"A surgery is recorded once performed: {performed_on.isoformat()} is after today"
            f" ({today.isoformat()}), and a follow-up plan counts from the day of the surgery.",
        )


def surgery_record(
    *,
    patient: Patient,
    surgeon: Surgeon,
    performed_on: dt.date,
    procedure: str,
    recorded_by: User | None = None,
) -> Surgery:
    """Record a surgery and its follow-up windows; visits already booked inside one fulfil it."""
    _check_performed_on(performed_on)
    with transaction.atomic():
        surgery = Surgery.objects.create(
            patient=patient,
            surgeon=surgeon,
            performed_on=performed_on,
            procedure=procedure,
            recorded_by=recorded_by,
        )
        FollowUpWindow.objects.bulk_create(
            FollowUpWindow(surgery=surgery, label=label, opens_on=opens, closes_on=closes)
            for label, opens, closes in follow_up_plan(performed_on=performed_on)
        )
        for appointment in Appointment.objects.filter(
            patient=patient, status__in=ACTIVE_STATUSES, start__date__gt=performed_on
        ).select_related("location"):
            follow_up_link(appointment=appointment)
    return surgery


SURGERY_FIELDS = {"procedure", "performed_on", "surgeon"}


def surgery_update(*, surgery: Surgery, data: dict[str, Any]) -> Surgery:
    """Correct a surgery's procedure, surgeon or date; unknown names are a programming error.

    A new `performed_on` re-plans the surgery's follow-up windows, each from its own label (the
    plan it was recorded with, even if FOLLOW_UP_PLAN changed since):
    - a window no visit fulfils gets its new dates;
    - a window a visit fulfils gets its new dates too, and keeps the visit when the visit's day
      still falls inside them, else lets it go (the window is open again);
    - then every active visit of the patient after the new date that fulfils no window is
      linked as a new booking would be (`follow_up_link`), so a visit let go may fulfil another
      window.
    Reminder counts are kept: a window moved is not a reason to text the patient more often.
    Locks the surgery and its windows (SELECT FOR UPDATE) so a concurrent booking's link waits.
    """
    unknown = set(data) - SURGERY_FIELDS
    if unknown:
        raise ValueError(f"surgery_update got unknown fields {sorted(unknown)}")
    if "performed_on" in data:
        _check_performed_on(data["performed_on"])
    with transaction.atomic():
        surgery = Surgery.objects.select_for_update().get(pk=surgery.pk)
        moved = "performed_on" in data and data["performed_on"] != surgery.performed_on
        for name, value in data.items():
            setattr(surgery, name, value.strip() if name == "procedure" else value)
        surgery.save(update_fields=list(data))
        if moved:
            _follow_ups_replan(surgery=surgery)
    return surgery


def _follow_ups_replan(*, surgery: Surgery) -> None:
    windows = list(
        FollowUpWindow.objects.select_for_update(of=("self",))
        .filter(surgery=surgery)
        .select_related("appointment__location")
    )
    for window in windows:
        window.opens_on, window.closes_on = _window_dates(window.label, surgery.performed_on)
        visit = window.appointment
        if visit is not None and not window.opens_on <= _local_day(visit) <= window.closes_on:
            window.appointment = None
    FollowUpWindow.objects.bulk_update(windows, ["opens_on", "closes_on", "appointment"])
    for appointment in Appointment.objects.filter(
        patient_id=surgery.patient_id,
        status__in=ACTIVE_STATUSES,
        start__date__gt=surgery.performed_on,
        follow_up_windows__isnull=True,
    ).select_related("location"):
        follow_up_link(appointment=appointment)


def _local_day(appointment: Appointment) -> dt.date:
    return appointment.start.astimezone(zoneinfo.ZoneInfo(appointment.location.timezone)).date()


@cache
def _follow_up_link_sql() -> str:
    """Built once per process from the models' table names; plain SQL that PostgreSQL and SQLite
    both run. On the booking's path: the ORM's version cost about 3 ms of CPU a booking to
    compile (bench/booking.py), this one nothing."""
    window, surgery = FollowUpWindow._meta.db_table, Surgery._meta.db_table
    return (
        f"UPDATE {window} SET appointment_id = %s WHERE appointment_id IS NULL AND id = ("  # noqa: S608 (table names from the models, values bound)
        f"SELECT w.id FROM {window} w JOIN {surgery} s ON s.id = w.surgery_id"
        " WHERE s.patient_id = %s AND w.appointment_id IS NULL AND w.opens_on <= %s AND w.closes_on >= %s"
        " ORDER BY w.opens_on, w.id LIMIT 1)"
    )


def follow_up_link(*, appointment: Appointment) -> None:
    """A visit inside an open, unbooked follow-up window of the patient fulfils it (the earliest
    such window). One UPDATE; the outer condition re-checks a window a concurrent booking took.
    Call inside the transaction that wrote the visit, with its location loaded."""
    local_day = _local_day(appointment)
    with connection.cursor() as cursor:
        cursor.execute(_follow_up_link_sql(), [appointment.pk, appointment.patient_id, local_day, local_day])


def follow_up_unlink(*, appointment: Appointment) -> None:
    """The visit was cancelled, moved or missed: the window it was to fulfil is open again, so
    the patient is reminded to book it."""
    FollowUpWindow.objects.filter(appointment_id=appointment.pk).update(appointment=None)
