"""The outbox: every text is a row before it is sent, and records its outcome after.

Rows are written by the reactions to booking's events, the follow-up scan and the replies, in
the transaction of what caused them; `dedupe_key` (one row per cause and kind) makes a second
write of the same text impossible. Quiet hours are computed here, in the location's zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.models import Appointment, FollowUpWindow, Patient, WaitlistOffer
from notifications.models import Message, MessageStatus, SuppressedReason


def quiet_hours_release(*, at: dt.datetime, zone: str) -> dt.datetime:
    """The earliest moment from `at` on that lies outside quiet hours in `zone`.

    Computed on the wall clock, so the 08:00 after a DST change is still 08:00 local.
    """
    if settings.SMS_QUIET_HOURS is None:
        return at
    tz = zoneinfo.ZoneInfo(zone)
    local = at.astimezone(tz)
    (start_h, start_m), (end_h, end_m) = settings.SMS_QUIET_HOURS
    start, end = dt.time(start_h, start_m), dt.time(end_h, end_m)
    now_t = local.time()
    if start > end:  # wraps midnight: 21:00-08:00
        if now_t >= start:
            release_day = local.date() + dt.timedelta(days=1)
        elif now_t < end:
            release_day = local.date()
        else:
            return at
    elif start <= now_t < end:
        release_day = local.date()
    else:
        return at
    return dt.datetime.combine(release_day, end, tzinfo=tz).astimezone(dt.UTC)


def zone_of(*, appointment: Appointment | None = None, patient: Patient | None = None) -> str:
    """The zone a text's quiet hours are computed in: its visit's, else the patient's clinic's,
    else the practice's."""
    if appointment is not None:
        return appointment.location.timezone
    if patient is not None and patient.preferred_location_id is not None:
        assert patient.preferred_location is not None  # noqa: S101 (narrowing for mypy)
        return patient.preferred_location.timezone
    return str(settings.SMS_DEFAULT_TIMEZONE)


def outbox_row(
    *,
    patient: Patient,
    kind: str,
    dedupe_key: str,
    body: str,
    due_at: dt.datetime,
    zone: str,
    appointment: Appointment | None = None,
    follow_up: FollowUpWindow | None = None,
    offer: WaitlistOffer | None = None,
) -> Message:
    """An unsaved outbox row. A patient who opted out or gave no consent still gets the row, as
    `suppressed`: the table is the audit trail."""
    suppressed = ""
    if patient.sms_opted_out_at is not None:
        suppressed = SuppressedReason.OPTED_OUT
    elif not patient.sms_consent:
        suppressed = SuppressedReason.NO_CONSENT
    return Message(
        patient=patient,
        appointment=appointment,
        follow_up=follow_up,
        offer=offer,
        kind=kind,
        dedupe_key=dedupe_key,
        to=str(patient.phone),
        body=body,
        timezone=zone,
        due_at=quiet_hours_release(at=due_at, zone=zone),
        status=MessageStatus.SUPPRESSED if suppressed else MessageStatus.PENDING,
        suppressed_reason=suppressed,
    )


def message_create(
    *,
    patient: Patient,
    kind: str,
    dedupe_key: str,
    body: str,
    due_at: dt.datetime,
    zone: str,
    appointment: Appointment | None = None,
    follow_up: FollowUpWindow | None = None,
    offer: WaitlistOffer | None = None,
) -> Message | None:
    """Write one outbox row, or nothing if a row for this (cause, kind) exists already.

    Call inside the transaction of the change that caused it.
    """
    row = outbox_row(
        patient=patient,
        kind=kind,
        dedupe_key=dedupe_key,
        body=body,
        due_at=due_at,
        zone=zone,
        appointment=appointment,
        follow_up=follow_up,
        offer=offer,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            return row
    except IntegrityError:
        if Message.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise


def messages_write(rows: list[Message], *, now: dt.datetime) -> list[int]:
    """Write outbox rows in one INSERT, skipping any whose (cause, kind) exists already; the ids
    of those due now. Call inside the transaction of the change that caused them."""
    Message.objects.bulk_create(rows, ignore_conflicts=True)  # no ids back: hence the select
    due = [row.dedupe_key for row in rows if row.status == MessageStatus.PENDING and row.due_at <= now]
    if not due:
        return []
    return list(
        Message.objects.filter(dedupe_key__in=due, status=MessageStatus.PENDING).values_list("id", flat=True)
    )


def pending_suppress(queryset: Any, reason: str) -> int:
    """Rows of `queryset` still waiting are never sent; they stay, as suppressed, with `reason`."""
    return int(
        queryset.filter(status=MessageStatus.PENDING).update(
            status=MessageStatus.SUPPRESSED, suppressed_reason=reason, updated_at=timezone.now()
        )
    )


def due_now(messages: Iterable[Message | None], now: dt.datetime) -> list[int]:
    """The ids of the rows just written that are to be sent at once."""
    return [m.pk for m in messages if m is not None and m.status == MessageStatus.PENDING and m.due_at <= now]
