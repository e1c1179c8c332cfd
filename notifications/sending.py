"""Sending: a worker claims due rows by a conditional UPDATE, calls the transport outside any
transaction, and records each outcome; the sweep finds what a lost hand-off or a dead worker left.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from booking.models import AppointmentStatus, VisitEvent, WaitlistOfferStatus
from notifications.consent import OPTED_OUT_BY_CARRIER, patient_opt_out
from notifications.models import Message, MessageKind, MessageStatus, SuppressedReason
from notifications.outbox import quiet_hours_release
from notifications.transports import TWILIO_OPTED_OUT_CODE, Transport, TransportError, get_transport
from notifications.worklist import worklist_failure_add

logger = logging.getLogger(__name__)

# Statuses a visit's texts still make sense for.
LIVE_VISIT = [AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED]


def _backoff_seconds(attempts: int) -> float:
    """Exponential with jitter between half and one-and-a-half the step, capped."""
    step = settings.SMS_RETRY_BASE_SECONDS * 2 ** min(max(0, attempts - 1), 20)
    jittered = step * random.uniform(0.5, 1.5)  # noqa: S311 (jitter, not security)
    return float(min(settings.SMS_RETRY_MAX_SECONDS, jittered))


def _retry_deadline(message: Message) -> dt.datetime:
    """Until when a text that keeps failing is worth retrying: a reminder until its visit starts,
    any other text for SMS_RETRY_FOR_HOURS after it was written (and a visit's, not past it)."""
    if message.appointment is None:
        return message.created_at + dt.timedelta(hours=settings.SMS_RETRY_FOR_HOURS)
    if message.kind == MessageKind.REMINDER:  # written days ahead of when it is due
        return message.appointment.start
    return min(
        message.created_at + dt.timedelta(hours=settings.SMS_RETRY_FOR_HOURS), message.appointment.start
    )


def send_budget_seconds() -> float:
    """The longest one send may take: a lookup and a create, each a connect and a read."""
    return 4.0 * settings.SMS_SEND_TIMEOUT_SECONDS + 5.0


@dataclass(frozen=True)
class Sent:
    """What became of a chunk: seconds until each transient failure's retry, and the ids not
    even tried because the time left could not hold another send (for another task)."""

    retries: dict[int, float]
    left: list[int]


def _still_relevant(message: Message, now: dt.datetime) -> bool:
    appointment = message.appointment
    if message.kind in {MessageKind.CONFIRMATION, MessageKind.RESCHEDULED, MessageKind.REMINDER}:
        return appointment is not None and appointment.status in LIVE_VISIT and appointment.start > now
    if message.kind == MessageKind.FOLLOW_UP:
        window = message.follow_up
        return window is not None and window.appointment_id is None
    if message.kind == MessageKind.WAITLIST_OFFER:
        return message.offer is not None and message.offer.status == WaitlistOfferStatus.OPEN
    return True


def message_send(*, message_id: int) -> float | None:
    """Send one due row at most once; seconds until its retry after a transient failure."""
    return messages_send(message_ids=[message_id]).retries.get(message_id)


def _claim(message_ids: list[int], now: dt.datetime) -> list[int]:
    """The conditional UPDATE that makes a row ours: pending and due, now sending. Rows another
    worker claimed, or that were sent, suppressed or rescheduled meanwhile, are not returned."""
    if not message_ids:
        return []
    table = Message._meta.db_table
    placeholders = ", ".join(["%s"] * len(message_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, claimed_at = %s, updated_at = %s, attempts = attempts + 1 "  # noqa: S608 (table name from the model, values bound)
            f"WHERE id IN ({placeholders}) AND status = %s AND due_at <= %s RETURNING id",
            [MessageStatus.SENDING, now, now, *message_ids, MessageStatus.PENDING, now],
        )
        return [row[0] for row in cursor.fetchall()]


def messages_send(*, message_ids: list[int], deadline: float | None = None) -> Sent:
    """Send due rows, each at most once: claim them by a conditional UPDATE, call the transport
    outside any transaction, record each outcome.

    `deadline` (time.monotonic()) is when the caller must be done, a task's time limit: a row is
    sent only while a slow Twilio could still finish it by then; the rest are given back (pending
    again, their attempt returned), so none is left stranded in `sending`, and are returned in
    `left` for another task. Retries may be enqueued by the caller; the sweep sends them anyway if
    the broker loses them.
    """
    claimed = _claim(list(message_ids), timezone.now())
    retries: dict[int, float] = {}
    if not claimed:
        return Sent(retries=retries, left=[])
    transport = get_transport()
    messages = list(
        Message.objects.select_related("patient", "appointment", "follow_up", "offer")
        .filter(id__in=claimed)
        .order_by("id")
    )
    for index, message in enumerate(messages):
        if deadline is not None and time.monotonic() + send_budget_seconds() > deadline:
            left = [unsent.pk for unsent in messages[index:]]
            Message.objects.filter(id__in=left, status=MessageStatus.SENDING).update(
                status=MessageStatus.PENDING, claimed_at=None, attempts=F("attempts") - 1
            )
            return Sent(retries=retries, left=left)
        retry_in = _send_claimed(message=message, transport=transport)
        if retry_in is not None:
            retries[message.pk] = retry_in
    return Sent(retries=retries, left=[])


def _send_claimed(*, message: Message, transport: Transport) -> float | None:
    """Call while the row is `sending` and ours (claimed by `_claim`)."""
    now = timezone.now()
    message_id = message.pk
    mine = Message.objects.filter(id=message_id, status=MessageStatus.SENDING)
    patient = message.patient
    if patient.sms_opted_out_at is not None or not patient.sms_consent:
        reason = SuppressedReason.OPTED_OUT if patient.sms_opted_out_at else SuppressedReason.NO_CONSENT
        mine.update(status=MessageStatus.SUPPRESSED, suppressed_reason=reason, updated_at=now)
        return None
    if not _still_relevant(message, now):
        mine.update(
            status=MessageStatus.SUPPRESSED,
            suppressed_reason=SuppressedReason.NO_LONGER_RELEVANT,
            updated_at=now,
        )
        return None
    release = quiet_hours_release(at=now, zone=message.timezone)
    if release > now:
        # Not a send: give the attempt back and wait for the morning.
        mine.update(status=MessageStatus.PENDING, due_at=release, attempts=F("attempts") - 1, claimed_at=None)
        return None

    if str(patient.phone) != message.to:
        # The number changed since the row was written: the old one may be someone else's now.
        message.to = str(patient.phone)
        mine.update(to=message.to)
    try:
        sid = _earlier_attempt(message, transport) if message.attempts > 1 else None
        if sid is None:
            sid = transport.send(message)
    except TransportError as error:
        return _record_failure(message=message, error=error)
    except Exception as error:  # noqa: BLE001 (a bug in a backend must not strand the row: retry, then fail)
        # The type only: an exception's text may quote what was sent.
        logger.error("sms backend raised", extra={"message_id": message_id, "error": type(error).__name__})
        return _record_failure(message=message, error=TransportError(type(error).__name__, code="error"))
    sent_at = timezone.now()
    mine.update(
        status=MessageStatus.QUEUED, provider_sid=sid, sent_at=sent_at, updated_at=sent_at, error_code=""
    )
    logger.info(
        "sms sent", extra={"message_id": message_id, "kind": message.kind, "attempts": message.attempts}
    )
    return None


def _earlier_attempt(message: Message, transport: Transport) -> str | None:
    """The provider's id for this row if an earlier attempt got through but was not recorded."""
    recorded = {
        str(sid)
        for sid in Message.objects.filter(patient_id=message.patient_id, provider_sid__isnull=False)
        .exclude(pk=message.pk)
        .values_list("provider_sid", flat=True)
    }
    return transport.find(message, recorded=recorded)


def _record_failure(*, message: Message, error: TransportError) -> float | None:
    now = timezone.now()
    mine = Message.objects.filter(id=message.pk, status=MessageStatus.SENDING)
    log = {"message_id": message.pk, "code": error.code, "attempts": message.attempts}
    retry_at = quiet_hours_release(
        at=now + dt.timedelta(seconds=_backoff_seconds(message.attempts)), zone=message.timezone
    )
    if not error.permanent and retry_at < _retry_deadline(message):
        delay = (retry_at - now).total_seconds()
        mine.update(
            status=MessageStatus.PENDING,
            due_at=retry_at,
            claimed_at=None,
            error_code=error.code[:20],
            error_message=error.message[:300],
            updated_at=now,
        )
        logger.warning("sms send failed; retrying", extra={**log, "retry_in": round(delay, 1)})
        return delay
    with transaction.atomic():
        mine.update(
            status=MessageStatus.FAILED,
            error_code=error.code[:20],
            error_message=error.message[:300],
            updated_at=now,
        )
        if error.code == TWILIO_OPTED_OUT_CODE:
            patient_opt_out(patient=message.patient, reason=OPTED_OUT_BY_CARRIER)
        worklist_failure_add(
            message=message,
            summary=f"A {message.get_kind_display().lower()} text failed (error {error.code}).",
        )
    logger.warning("sms send failed for good", extra=log)
    return None


@dataclass(frozen=True)
class Sweep:
    """What the sweep found for the workers: rows to send and visit events to react to."""

    stranded: int
    message_ids: list[int]
    event_ids: list[int]


def messages_sweep() -> Sweep:
    """Every minute: reconcile rows stranded by a dead worker, and find the due rows and the
    unhandled visit events whose hand-off to a worker was lost (a broker outage, a dead process).
    Fresh ones are left to their own task for `SMS_SWEEP_GRACE_SECONDS`."""
    now = timezone.now()
    grace = now - dt.timedelta(seconds=settings.SMS_SWEEP_GRACE_SECONDS)
    stranded = list(
        Message.objects.filter(
            status=MessageStatus.SENDING,
            claimed_at__lt=now - dt.timedelta(seconds=settings.SMS_STRANDED_AFTER_SECONDS),
        ).values_list("id", flat=True)[:1000]
    )
    recovered = [
        # Back to pending; the send asks the provider first (attempts > 1), so a text the dead
        # worker got out is recorded, not sent twice.
        message_id
        for message_id in stranded
        if Message.objects.filter(id=message_id, status=MessageStatus.SENDING).update(
            status=MessageStatus.PENDING, claimed_at=None, due_at=now, updated_at=now
        )
    ]
    due = list(
        Message.objects.filter(status=MessageStatus.PENDING, due_at__lte=now)
        .filter(updated_at__lte=grace)
        .order_by("due_at")
        .values_list("id", flat=True)[:5000]
    )
    events = list(
        VisitEvent.objects.filter(handled_at__isnull=True, created_at__lte=grace)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:5000]
    )
    return Sweep(stranded=len(recovered), message_ids=recovered + due, event_ids=events)
