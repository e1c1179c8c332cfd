"""SMS: the outbox, its sending, replies, status callbacks, surgeries and their follow-ups.

Booking services call the four hooks (`appointment_booked`, ...) inside their transaction, so the
outbox rows commit (or roll back) with the change that caused them. After commit the relay thread
(`notifications.relay`) hands the due ids to a task on the `sms` queue, which sends each row; a
beat sweep every minute sends whatever the broker or the relay lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    FollowUpWindow,
    Patient,
    Surgery,
    WaitlistEntry,
    WaitlistStatus,
)
from notifications import content
from notifications.models import (
    InboundMessage,
    Message,
    MessageKind,
    MessageStatus,
    ReplyIntent,
    SuppressedReason,
    WaitlistOffer,
    WaitlistOfferStatus,
    WorklistItem,
    WorklistKind,
)
from notifications.relay import Relay
from notifications.transports import TWILIO_OPTED_OUT_CODE, Transport, TransportError, get_transport
from practice.clock import practice_today
from practice.errors import InvalidInput

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from locations.models import Surgeon

logger = logging.getLogger(__name__)

# Statuses a visit's texts still make sense for.
_LIVE_VISIT = [AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED]
# Twilio's statuses in the order they happen; a late callback never moves a row backwards.
_STATUS_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.QUEUED: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.UNDELIVERED: 4,
    MessageStatus.FAILED: 4,
}
# Twilio's statuses we record; "accepted", "scheduled" and "sending" mean queued to us.
_TWILIO_STATUSES = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.QUEUED,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
}
# Twilio's opt-out words (and ours: START, HELP) after trimming and upper-casing.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES START"})
HELP_WORDS = frozenset({"HELP", "INFO"})


# --- Time: quiet hours in the location's zone ----------------------------------------------------


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


def _zone_of(*, appointment: Appointment | None = None, patient: Patient | None = None) -> str:
    if appointment is not None:
        return appointment.location.timezone
    if patient is not None and patient.preferred_location_id is not None:
        assert patient.preferred_location is not None  # noqa: S101 (narrowing for mypy)
        return patient.preferred_location.timezone
    return str(settings.SMS_DEFAULT_TIMEZONE)


def _backoff_seconds(attempts: int) -> float:
    """Exponential, capped, with full jitter between half and one-and-a-half the step."""
    step = min(settings.SMS_RETRY_MAX_SECONDS, settings.SMS_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return float(step * random.uniform(0.5, 1.5))  # noqa: S311 (jitter, not security)


# --- The outbox ----------------------------------------------------------------------------------


# Rows committed together (a batch, a sweep) travel this many ids to a task: the broker's cost
# is paid once per chunk, and the worker's threads each take a chunk.
ENQUEUE_CHUNK = 25


def _enqueue(message_ids: list[int], *, countdown: float | None = None) -> None:
    """Hand rows to the `sms` queue. A broker outage loses nothing: the sweep finds the rows."""
    from notifications.tasks import send_messages

    for start in range(0, len(message_ids), ENQUEUE_CHUNK):
        chunk = message_ids[start : start + ENQUEUE_CHUNK]
        try:
            send_messages.apply_async((chunk,), countdown=countdown or 0, retry=False)
        except Exception as error:  # noqa: BLE001 (any broker failure: the sweep sends the rows later)
            logger.warning(
                "sms enqueue failed; the sweep will send the rows",
                extra={"messages": len(message_ids) - start, "error": type(error).__name__},
            )
            return


def message_retry_enqueue(*, message_id: int, countdown: float) -> None:
    _enqueue([message_id], countdown=countdown)


# After commit, the due ids go to the broker from a thread of this process: a booking returns
# when it commits, and ids committed within RELAY_LINGER_SECONDS of each other share a publish
# (a publish costs about as much CPU as a booking's queries). The sweep covers a lost queue.
RELAY_LINGER_SECONDS = 0.05
_relay = Relay(lambda ids: _enqueue(ids), chunk=ENQUEUE_CHUNK, linger=RELAY_LINGER_SECONDS)


def _enqueue_on_commit(message_ids: list[int]) -> None:
    due = list(message_ids)
    if due:
        # Robust: the visit is committed whatever happens here; the sweep sends what is missed.
        transaction.on_commit(lambda: _relay.submit(due), robust=True)


def _outbox_row(
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
    row = _outbox_row(
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


def _messages_write(rows: list[Message], *, now: dt.datetime) -> list[int]:
    """Write outbox rows in one INSERT, skipping any whose (cause, kind) exists already; the ids
    of those due now. Call inside the transaction of the change that caused them."""
    Message.objects.bulk_create(rows, ignore_conflicts=True)  # no ids back: hence the select
    due = [row.dedupe_key for row in rows if row.status == MessageStatus.PENDING and row.due_at <= now]
    if not due:
        return []
    return list(
        Message.objects.filter(dedupe_key__in=due, status=MessageStatus.PENDING).values_list("id", flat=True)
    )


def _suppress_pending(queryset: Any, reason: str) -> int:
    return int(
        queryset.filter(status=MessageStatus.PENDING).update(
            status=MessageStatus.SUPPRESSED, suppressed_reason=reason, updated_at=timezone.now()
        )
    )


def _fresh(appointment: Appointment) -> Appointment:
    """The visit with its patient and location in one query: the caller's Patient may predate a
    STOP that arrived since it was loaded."""
    return Appointment.objects.select_related("patient", "location").get(pk=appointment.pk)


@dataclass(frozen=True)
class _Text:
    """One outbox row of a visit, before the patient's number and consent are read."""

    kind: str
    dedupe_key: str
    body: str
    due_at: dt.datetime  # out of quiet hours already


def _visit_texts(*, visit: Appointment, kind: str, now: dt.datetime) -> list[_Text]:
    """The notice of `kind` (confirmation or moved) now, and the reminders before the visit."""
    zone = visit.location.timezone
    stamp = int(visit.start.timestamp())
    texts = [
        _Text(
            kind=kind,
            dedupe_key=f"appointment:{visit.pk}:{kind}:{stamp}",
            body=content.visit_notice(kind=kind, appointment=visit),
            due_at=quiet_hours_release(at=now, zone=zone),
        )
    ]
    reminder = content.visit_notice(kind=MessageKind.REMINDER, appointment=visit)
    for hours in settings.SMS_REMINDER_OFFSETS_HOURS:
        due = visit.start - dt.timedelta(hours=hours)
        released = quiet_hours_release(at=due, zone=zone)
        # A reminder that would wait out the night until after the visit is no reminder.
        if due <= now or released >= visit.start:
            continue
        texts.append(
            _Text(
                kind=MessageKind.REMINDER,
                dedupe_key=f"appointment:{visit.pk}:reminder:{hours}h:{stamp}",
                body=reminder,
                due_at=released,
            )
        )
    return texts


def _visit_texts_write(*, appointment: Appointment, kind: str, now: dt.datetime) -> list[int]:
    """Write a visit's notice of `kind` and its reminders, and let the visit fulfil the
    patient's earliest open follow-up window that its day falls in; the ids of rows due now.

    The patient's number, consent and opt-out are read in the write itself, so a STOP that
    landed after the caller loaded the patient still counts. On PostgreSQL that is one
    statement (`_visit_texts_write_postgresql`, a booking's budget is a few milliseconds);
    elsewhere three ORM queries. tests/notifications/test_visit_texts.py holds the two to the
    same rows. Call inside the transaction that wrote the visit."""
    texts = _visit_texts(visit=appointment, kind=kind, now=now)
    if connection.vendor == "postgresql":
        return _visit_texts_write_postgresql(appointment=appointment, texts=texts, now=now)
    return _visit_texts_write_orm(appointment=appointment, texts=texts, now=now)


def _visit_texts_write_orm(*, appointment: Appointment, texts: list[_Text], now: dt.datetime) -> list[int]:
    visit = _fresh(appointment)
    rows = [
        _outbox_row(
            patient=visit.patient,
            appointment=visit,
            kind=text.kind,
            dedupe_key=text.dedupe_key,
            body=text.body,
            due_at=text.due_at,
            zone=visit.location.timezone,
        )
        for text in texts
    ]
    due = _messages_write(rows, now=now)
    _follow_up_link(appointment=visit)
    return due


@cache
def _visit_texts_sql() -> str:
    """The outbox rows (the patient's row read in the same statement), the follow-up link and
    the due ids as one statement; built once per process. Only table names are formatted in."""
    message, patient = Message._meta.db_table, Patient._meta.db_table
    window, surgery = FollowUpWindow._meta.db_table, Surgery._meta.db_table
    return (
        "WITH patient AS (SELECT id, phone, sms_opted_out_at IS NOT NULL AS opted_out, sms_consent"  # noqa: S608
        f" FROM {patient} WHERE id = %(patient)s),"
        f" texts AS (INSERT INTO {message} (patient_id, appointment_id, follow_up_id, offer_id, kind,"
        ' dedupe_key, "to", body, timezone, status, suppressed_reason, due_at, attempts, claimed_at,'
        " provider_sid, error_code, error_message, created_at, updated_at, sent_at, delivered_at)"
        " SELECT patient.id, %(appointment)s, NULL, NULL, text.kind, text.dedupe_key, patient.phone,"
        " text.body, %(zone)s,"
        " CASE WHEN patient.opted_out OR NOT patient.sms_consent THEN %(suppressed)s ELSE %(pending)s END,"
        " CASE WHEN patient.opted_out THEN %(opted_out)s WHEN NOT patient.sms_consent THEN %(no_consent)s"
        " ELSE '' END,"
        " text.due_at, 0, NULL, NULL, '', '', %(now)s, %(now)s, NULL, NULL"
        " FROM patient, unnest(%(kinds)s::text[], %(keys)s::text[], %(bodies)s::text[],"
        " %(dues)s::timestamptz[]) AS text(kind, dedupe_key, body, due_at)"
        " ON CONFLICT DO NOTHING RETURNING id, status, due_at),"
        f" follow_up AS (UPDATE {window} SET appointment_id = %(appointment)s"
        f" WHERE appointment_id IS NULL AND id = (SELECT w.id FROM {window} w"
        f" JOIN {surgery} s ON s.id = w.surgery_id WHERE s.patient_id = %(patient)s"
        " AND w.appointment_id IS NULL AND w.opens_on <= %(day)s AND w.closes_on >= %(day)s"
        " ORDER BY w.opens_on, w.id LIMIT 1))"
        " SELECT id FROM texts WHERE status = %(pending)s AND due_at <= %(now)s"
    )


def _visit_texts_write_postgresql(
    *, appointment: Appointment, texts: list[_Text], now: dt.datetime
) -> list[int]:
    zone = appointment.location.timezone
    params: dict[str, Any] = {
        "patient": appointment.patient_id,
        "appointment": appointment.pk,
        "zone": zone,
        "now": now,
        "day": appointment.start.astimezone(zoneinfo.ZoneInfo(zone)).date(),
        "kinds": [text.kind for text in texts],
        "keys": [text.dedupe_key for text in texts],
        "bodies": [text.body for text in texts],
        "dues": [text.due_at for text in texts],
        "pending": MessageStatus.PENDING.value,
        "suppressed": MessageStatus.SUPPRESSED.value,
        "opted_out": SuppressedReason.OPTED_OUT.value,
        "no_consent": SuppressedReason.NO_CONSENT.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_visit_texts_sql(), params)
        return [row[0] for row in cursor.fetchall()]


def _due_now(messages: Iterable[Message | None], now: dt.datetime) -> list[int]:
    return [m.pk for m in messages if m is not None and m.status == MessageStatus.PENDING and m.due_at <= now]


def appointment_booked(*, appointment: Appointment) -> None:
    """A visit was booked: confirmation now, reminders before it, follow-up window fulfilled.

    Runs inside booking's transaction: one statement on PostgreSQL (`_visit_texts_write`)."""
    now = timezone.now()
    _enqueue_on_commit(_visit_texts_write(appointment=appointment, kind=MessageKind.CONFIRMATION, now=now))


def appointment_rescheduled(*, old: Appointment, new: Appointment) -> None:
    """A visit moved: the old visit's pending texts are suppressed, the new one's scheduled."""
    now = timezone.now()
    _suppress_pending(Message.objects.filter(appointment_id=old.pk), SuppressedReason.VISIT_CHANGED)
    FollowUpWindow.objects.filter(appointment_id=old.pk).update(appointment=None)
    _enqueue_on_commit(_visit_texts_write(appointment=new, kind=MessageKind.RESCHEDULED, now=now))


def appointment_cancelled(*, appointment: Appointment) -> None:
    """A visit was cancelled: a notice, and its pending reminders suppressed."""
    now = timezone.now()
    _suppress_pending(Message.objects.filter(appointment_id=appointment.pk), SuppressedReason.VISIT_CHANGED)
    FollowUpWindow.objects.filter(appointment_id=appointment.pk).update(appointment=None)
    visit = _fresh(appointment)
    notice = _outbox_row(
        patient=visit.patient,
        appointment=visit,
        kind=MessageKind.CANCELLED,
        dedupe_key=f"appointment:{visit.pk}:cancelled",
        body=content.visit_notice(kind=MessageKind.CANCELLED, appointment=visit),
        due_at=now,
        zone=visit.location.timezone,
    )
    _enqueue_on_commit(_messages_write([notice], now=now))


def appointment_no_show(*, appointment: Appointment) -> None:
    """The patient did not come: a follow-up the visit was to fulfil is open again."""
    FollowUpWindow.objects.filter(appointment_id=appointment.pk).update(appointment=None)


def slot_freed(*, appointment: Appointment) -> None:
    """The slot `appointment` held is free again: offer it to matching waitlist patients.

    Runs inside booking's transaction, which holds the freed visit's row lock: the offers, the
    entries' new status and the texts are one write each."""
    if appointment.start <= timezone.now():
        return
    from booking.selectors import slot_is_free, waitlist_matches

    now = timezone.now()
    offered_before = set(WaitlistOffer.objects.filter(freed=appointment).values_list("entry_id", flat=True))
    free_for_tier: dict[int, bool] = {}
    chosen: list[WaitlistEntry] = []
    for entry in waitlist_matches(appointment=appointment):
        if len(chosen) >= settings.SMS_WAITLIST_OFFERS:
            break
        if entry.patient_id == appointment.patient_id or entry.pk in offered_before:
            continue
        if entry.patient.sms_opted_out_at is not None or not entry.patient.sms_consent:
            continue  # an offer nobody can read would hold the slot from those who can
        # A move by half an hour still overlaps the old time; a closure or the notice period may
        # cover it. Same transaction, so the new visit counts. Reserved capacity varies by tier.
        if entry.tier_id not in free_for_tier:
            free_for_tier[entry.tier_id] = slot_is_free(
                appointment_type=appointment.appointment_type,
                tier=entry.tier,
                surgeon_id=appointment.surgeon_id,
                location_id=appointment.location_id,
                start=appointment.start,
            )
        if not free_for_tier[entry.tier_id]:
            continue
        chosen.append(entry)
    if not chosen:
        return
    offers = WaitlistOffer.objects.bulk_create(
        WaitlistOffer(entry=entry, freed=appointment) for entry in chosen
    )
    WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in chosen], status=WaitlistStatus.WAITING).update(
        status=WaitlistStatus.OFFERED
    )
    body = content.waitlist_offer(appointment=appointment)
    rows = [
        _outbox_row(
            patient=offer.entry.patient,
            offer=offer,
            kind=MessageKind.WAITLIST_OFFER,
            dedupe_key=f"offer:{offer.pk}:offer",
            body=body,
            due_at=now,
            zone=appointment.location.timezone,
        )
        for offer in offers
    ]
    _enqueue_on_commit(_messages_write(rows, now=now))


# --- Sending -------------------------------------------------------------------------------------


def _still_relevant(message: Message, now: dt.datetime) -> bool:
    appointment = message.appointment
    if message.kind in {MessageKind.CONFIRMATION, MessageKind.RESCHEDULED, MessageKind.REMINDER}:
        return appointment is not None and appointment.status in _LIVE_VISIT and appointment.start > now
    if message.kind == MessageKind.FOLLOW_UP:
        window = message.follow_up
        return window is not None and window.appointment_id is None
    if message.kind == MessageKind.WAITLIST_OFFER:
        return message.offer is not None and message.offer.status == WaitlistOfferStatus.OPEN
    return True


def message_send(*, message_id: int) -> float | None:
    """Send one due row at most once; seconds until its retry after a transient failure."""
    return messages_send(message_ids=[message_id]).get(message_id)


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


def messages_send(*, message_ids: list[int]) -> dict[int, float]:
    """Send due rows, each at most once: claim them by a conditional UPDATE, call the transport
    outside any transaction, record each outcome.

    Returns, for rows that failed transiently, the seconds until their retry is due; the caller
    may enqueue those retries, and the sweep sends them anyway if the broker loses them.
    """
    claimed = _claim(list(message_ids), timezone.now())
    retries: dict[int, float] = {}
    if not claimed:
        return retries
    transport = get_transport()
    for message in Message.objects.select_related("patient", "appointment", "follow_up", "offer").filter(
        id__in=claimed
    ):
        retry_in = _send_claimed(message=message, transport=transport)
        if retry_in is not None:
            retries[message.pk] = retry_in
    return retries


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
    if not error.permanent and message.attempts < settings.SMS_MAX_ATTEMPTS:
        delay = _backoff_seconds(message.attempts)
        mine.update(
            status=MessageStatus.PENDING,
            due_at=now + dt.timedelta(seconds=delay),
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
        WorklistItem.objects.get_or_create(
            message=message,
            defaults={
                "kind": WorklistKind.FAILED_MESSAGE,
                "patient": message.patient,
                "summary": f"A {message.get_kind_display().lower()} text failed (error {error.code}).",
            },
        )
    logger.warning("sms send failed for good", extra=log)
    return None


def messages_sweep() -> dict[str, int]:
    """Every minute: reconcile rows stranded by a dead worker, and send due rows the broker lost."""
    now = timezone.now()
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
        .filter(updated_at__lte=now - dt.timedelta(seconds=settings.SMS_SWEEP_GRACE_SECONDS))
        .order_by("due_at")
        .values_list("id", flat=True)[:5000]
    )
    _enqueue(recovered + due)
    lapsed = waitlist_offers_lapse(now=now)
    return {"stranded": len(recovered), "enqueued": len(recovered) + len(due), "offers_lapsed": lapsed}


def waitlist_offers_lapse(*, now: dt.datetime) -> int:
    """Open offers nobody answered in time, or whose slot is about to start, are gone; their
    patients wait for the next freed slot again (an offered entry is not offered another)."""
    stale = WaitlistOffer.objects.filter(status=WaitlistOfferStatus.OPEN).filter(
        Q(created_at__lte=now - dt.timedelta(hours=settings.SMS_WAITLIST_OFFER_HOURS))
        | Q(freed__start__lte=now + dt.timedelta(hours=1))
    )
    lapsed = 0
    for offer in stale.select_related("entry")[:1000]:
        with transaction.atomic():
            if WaitlistOffer.objects.filter(pk=offer.pk, status=WaitlistOfferStatus.OPEN).update(
                status=WaitlistOfferStatus.GONE, answered_at=now
            ):
                lapsed += 1
                WaitlistEntry.objects.filter(pk=offer.entry_id, status=WaitlistStatus.OFFERED).update(
                    status=WaitlistStatus.WAITING
                )
    return lapsed


# --- Delivery status callbacks -------------------------------------------------------------------


def message_status_record(
    *, provider_sid: str, status: str, error_code: str = "", message_id: int | None = None
) -> Message | None:
    """Twilio told us what became of a text. Callbacks arrive late and out of order."""
    new_status = _TWILIO_STATUSES.get(status.strip().lower())
    if new_status is None:
        return None
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(provider_sid=provider_sid).first()
        if message is None and message_id is not None:
            # The worker that sent it died before recording the sid: the callback tells us.
            message = (
                Message.objects.select_for_update()
                .filter(id=message_id, provider_sid__isnull=True, status=MessageStatus.SENDING)
                .first()
            )
            if message is not None:
                message.provider_sid = provider_sid
        if message is None:
            return None
        if _STATUS_RANK.get(MessageStatus(message.status), -1) > _STATUS_RANK[new_status]:
            return message
        now = timezone.now()
        message.status = new_status
        if error_code:
            message.error_code = error_code[:20]
        if new_status == MessageStatus.DELIVERED:
            message.delivered_at = now
        message.save()
        if error_code == TWILIO_OPTED_OUT_CODE:
            patient_opt_out(patient=message.patient, reason=OPTED_OUT_BY_CARRIER)
        if new_status in {MessageStatus.FAILED, MessageStatus.UNDELIVERED}:
            WorklistItem.objects.get_or_create(
                message=message,
                defaults={
                    "kind": WorklistKind.FAILED_MESSAGE,
                    "patient_id": message.patient_id,
                    "summary": f"A {message.get_kind_display().lower()} text was {new_status} "
                    f"(error {error_code or 'none'}).",
                },
            )
    return message


# --- Opt-out and replies -------------------------------------------------------------------------


def _same_phone(patient: Patient) -> Q:
    # Twilio's opt-out is per phone number: a family phone stops (and starts) for everyone on it.
    return Q(pk=patient.pk) | Q(phone=patient.phone)


# Why a patient's opt-out changed, in their history (consent records are kept for audits).
OPTED_OUT_BY_REPLY = "Replied STOP by SMS"
OPTED_OUT_BY_CARRIER = "Twilio reported the number opted out (error 21610)"
OPTED_IN_BY_REPLY = "Replied START by SMS"


def _opt_out_set(*, patient: Patient, at: dt.datetime | None, reason: str) -> None:
    """Set `sms_opted_out_at` for everyone on the patient's phone whose value differs, with a
    history row each naming `reason`."""
    with transaction.atomic():
        changing = list(
            # no_key: a lock that still lets bookings' foreign-key checks read the patient row.
            Patient.objects.select_for_update(no_key=True)
            .filter(_same_phone(patient), sms_opted_out_at__isnull=at is not None)  # those it changes
            .order_by("pk")
        )
        for sharing in changing:
            sharing.sms_opted_out_at = at
        bulk_update_with_history(changing, Patient, ["sms_opted_out_at"], default_change_reason=reason)


def patient_opt_out(*, patient: Patient, reason: str = OPTED_OUT_BY_REPLY) -> None:
    """STOP: nothing more is sent. Rows already waiting are kept, as suppressed."""
    _opt_out_set(patient=patient, at=timezone.now(), reason=reason)
    _suppress_pending(
        Message.objects.filter(patient__in=Patient.objects.filter(_same_phone(patient))),
        SuppressedReason.OPTED_OUT,
    )


def patient_opt_in(*, patient: Patient) -> None:
    """START: texts flow again for everyone on the phone."""
    _opt_out_set(patient=patient, at=None, reason=OPTED_IN_BY_REPLY)


def reply_intent(body: str) -> str:
    word = " ".join(body.split()).upper().strip(".!")
    if word in OPT_OUT_WORDS:
        return ReplyIntent.STOP
    if word in OPT_IN_WORDS:
        return ReplyIntent.START
    if word in HELP_WORDS:
        return ReplyIntent.HELP
    if word in {"YES", "Y"}:
        return ReplyIntent.YES
    if word == "C":
        return ReplyIntent.CONFIRM
    if word == "R":
        return ReplyIntent.RESCHEDULE
    return ReplyIntent.OTHER


def _patient_for_number(number: str) -> Patient | None:
    # A number shared by several patients (a family phone) answers for the one texted last.
    latest = Message.objects.filter(to=number).order_by("-created_at", "-id").values("patient_id").first()
    if latest is not None:
        return Patient.objects.filter(pk=latest["patient_id"]).first()
    return Patient.objects.filter(phone=number).order_by("-id").first()


def inbound_receive(*, provider_sid: str, from_number: str, body: str) -> str:
    """A patient texted the practice. Returns the reply to send back ("" for none).

    Twilio retries a webhook it thinks failed: a MessageSid seen before changes nothing again.
    """
    intent = reply_intent(body)
    with transaction.atomic():
        patient = _patient_for_number(from_number)
        inbound, created = InboundMessage.objects.get_or_create(
            provider_sid=provider_sid,
            defaults={"from_number": from_number, "patient": patient, "body": body, "intent": intent},
        )
        if not created:
            return inbound.outcome if inbound.intent == ReplyIntent.HELP else ""
        reply, outcome = _act_on_reply(inbound=inbound, patient=patient, intent=intent)
        inbound.outcome = outcome[:200]
        inbound.save(update_fields=["outcome"])
    return reply


def _needs_a_human(inbound: InboundMessage, patient: Patient | None, kind: str, summary: str) -> None:
    WorklistItem.objects.create(kind=kind, patient=patient, inbound=inbound, summary=summary)


def _act_on_reply(*, inbound: InboundMessage, patient: Patient | None, intent: str) -> tuple[str, str]:
    if intent == ReplyIntent.HELP:
        help_text = content.help_reply()
        return help_text, help_text
    if patient is None:
        _needs_a_human(inbound, None, WorklistKind.REPLY, "A text from a number no patient has.")
        return "", "unknown number"
    if intent == ReplyIntent.STOP:
        patient_opt_out(patient=patient)
        return "", "opted out"  # Twilio itself answers STOP with its confirmation
    if intent == ReplyIntent.START:
        patient_opt_in(patient=patient)
        return "", "opted in"
    if intent == ReplyIntent.YES:
        offer = (
            WaitlistOffer.objects.filter(entry__patient=patient, status=WaitlistOfferStatus.OPEN)
            .order_by("-created_at")
            .first()
        )
        if offer is not None:
            booked = waitlist_offer_accept(offer=offer)
            if booked is None:
                return content.waitlist_gone_reply(), "waitlist offer gone"
            return "", f"waitlist offer accepted: appointment {booked.pk}"
    if intent in {ReplyIntent.YES, ReplyIntent.CONFIRM}:
        confirmed = _confirm_next_visit(patient=patient)
        if confirmed is None and intent == ReplyIntent.YES and _recently_gone_offer(patient=patient):
            return content.waitlist_gone_reply(), "waitlist offer already gone"
        if confirmed is None:
            _needs_a_human(
                inbound, patient, WorklistKind.REPLY, "Replied to confirm, but has no upcoming visit."
            )
            return "", "no upcoming visit to confirm"
        return content.confirmed_reply(appointment=confirmed), f"confirmed appointment {confirmed.pk}"
    if intent == ReplyIntent.RESCHEDULE:
        _needs_a_human(inbound, patient, WorklistKind.CALL_BACK, "Asks for a call back to reschedule.")
        return content.call_back_reply(), "call back requested"
    _needs_a_human(inbound, patient, WorklistKind.REPLY, "Replied with a text that needs a person.")
    return "", "to the worklist"


def _recently_gone_offer(*, patient: Patient) -> bool:
    return WaitlistOffer.objects.filter(
        entry__patient=patient,
        status=WaitlistOfferStatus.GONE,
        answered_at__gte=timezone.now() - dt.timedelta(days=7),
    ).exists()


def _confirm_next_visit(*, patient: Patient) -> Appointment | None:
    upcoming = (
        Appointment.objects.filter(patient=patient, status__in=_LIVE_VISIT, start__gt=timezone.now())
        .select_related("location")
        .order_by("start")
        .first()
    )
    if upcoming is None:
        return None
    if upcoming.status == AppointmentStatus.CONFIRMED:
        return upcoming
    from booking.services import appointment_confirm  # booking imports this module

    return appointment_confirm(appointment=upcoming)


def waitlist_offer_accept(*, offer: WaitlistOffer) -> Appointment | None:
    """The first YES to a freed slot books it; the others are told it is gone.

    Siblings serialise on a row lock of the freed (cancelled) visit, and a partial unique index
    allows one accepted offer per slot, so two YESes can never both win. None: it was gone.
    """
    from booking.services import appointment_book  # booking imports this module
    from practice.errors import DomainError

    with transaction.atomic():
        freed = Appointment.objects.select_for_update().select_related("location").get(pk=offer.freed_id)
        offer = (
            WaitlistOffer.objects.select_for_update()
            .select_related("entry", "entry__patient")
            .get(pk=offer.pk)
        )
        if offer.status != WaitlistOfferStatus.OPEN:
            return offer.booked if offer.status == WaitlistOfferStatus.ACCEPTED else None
        booked: Appointment | None = None
        # An entry withdrawn (by a scheduler, or expired) since the offer: the patient no longer waits.
        still_waiting = offer.entry.status in {WaitlistStatus.WAITING, WaitlistStatus.OFFERED}
        if still_waiting and freed.start > timezone.now():
            try:
                with transaction.atomic():
                    booked = appointment_book(
                        patient=offer.entry.patient,
                        surgeon=freed.surgeon,
                        location=freed.location,
                        appointment_type=freed.appointment_type,
                        tier=offer.entry.tier,
                        start=freed.start,
                        # The patient asked to be offered an earlier visit and said yes: past the
                        # tier's window or not, this is the earliest they can have. Recorded.
                        window_override_reason="Accepted a waitlist offer by SMS.",
                    )
            except DomainError:
                booked = None
        now = timezone.now()
        if booked is None:
            offer.status = WaitlistOfferStatus.GONE
            offer.answered_at = now
            offer.save(update_fields=["status", "answered_at"])
            return None
        offer.status, offer.booked, offer.answered_at = WaitlistOfferStatus.ACCEPTED, booked, now
        offer.save(update_fields=["status", "booked", "answered_at"])
        WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=WaitlistStatus.BOOKED)
        gone = []
        for sibling in WaitlistOffer.objects.filter(
            freed=freed, status=WaitlistOfferStatus.OPEN
        ).select_related("entry__patient"):
            sibling.status, sibling.answered_at = WaitlistOfferStatus.GONE, now
            sibling.save(update_fields=["status", "answered_at"])
            WaitlistEntry.objects.filter(pk=sibling.entry_id, status=WaitlistStatus.OFFERED).update(
                status=WaitlistStatus.WAITING
            )
            gone.append(
                message_create(
                    patient=sibling.entry.patient,
                    offer=sibling,
                    kind=MessageKind.WAITLIST_GONE,
                    dedupe_key=f"offer:{sibling.pk}:gone",
                    body=content.waitlist_gone(appointment=freed),
                    due_at=now,
                    zone=freed.location.timezone,
                )
            )
        _enqueue_on_commit(_due_now(gone, now))
    return booked


# --- Surgeries and follow-ups --------------------------------------------------------------------


def _plan_offset(item: str) -> relativedelta:
    number, unit = int(item[:-1]), item[-1]
    return {
        "d": relativedelta(days=number),
        "w": relativedelta(weeks=number),
        "m": relativedelta(months=number),
        "y": relativedelta(years=number),
    }[unit]


def follow_up_plan(*, performed_on: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The windows (label, opens, closes): each opens at its offset and stays open a quarter of
    that span (at least a week), so a 6-week visit may be booked up to about 8 weeks out."""
    windows = []
    for item in settings.FOLLOW_UP_PLAN:
        opens = performed_on + _plan_offset(item)
        span = (opens - performed_on).days
        windows.append((item, opens, opens + dt.timedelta(days=max(7, span // 4))))
    return windows


def surgery_record(
    *,
    patient: Patient,
    surgeon: Surgeon,
    performed_on: dt.date,
    procedure: str,
    recorded_by: User | None = None,
) -> Surgery:
    """Record a surgery and its follow-up windows; visits already booked inside one fulfil it."""
    if performed_on > practice_today() + dt.timedelta(days=365):
        raise InvalidInput.for_field("performed_on", "A surgery more than a year ahead is not a plan yet.")
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
            _follow_up_link(appointment=appointment)
    return surgery


def _follow_up_link(*, appointment: Appointment) -> None:
    """A visit inside an open, unbooked follow-up window of the patient fulfils it (the earliest
    such window). One UPDATE; the outer condition re-checks a window a concurrent booking took."""
    local_day = appointment.start.astimezone(zoneinfo.ZoneInfo(appointment.location.timezone)).date()
    earliest = (
        FollowUpWindow.objects.filter(
            surgery__patient_id=appointment.patient_id,
            appointment__isnull=True,
            opens_on__lte=local_day,
            closes_on__gte=local_day,
        )
        .order_by("opens_on", "id")
        .values("pk")[:1]
    )
    FollowUpWindow.objects.filter(pk=Subquery(earliest), appointment__isnull=True).update(
        appointment=appointment
    )


def follow_ups_scan() -> int:
    """Beat, hourly: a text for each open window with no visit booked, at most once a week and
    up to the limit. Rows in the database, never Celery countdowns: they run two years out."""
    now = timezone.now()
    every = dt.timedelta(days=settings.FOLLOW_UP_REMINDER_EVERY_DAYS)
    # The widest "today" on Earth; each window is then checked in the patient's own zone.
    candidates = (
        FollowUpWindow.objects.filter(
            appointment__isnull=True,
            opens_on__lte=now.date() + dt.timedelta(days=1),
            closes_on__gte=now.date() - dt.timedelta(days=1),
            reminders_sent__lt=settings.FOLLOW_UP_REMINDER_LIMIT,
            surgery__patient__sms_opted_out_at__isnull=True,
        )
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - every))
        .select_related("surgery__patient__preferred_location")
    )
    created: list[Message | None] = []
    for window in candidates[:5000]:
        patient = window.surgery.patient
        zone = _zone_of(patient=patient)
        today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        if not window.opens_on <= today <= window.closes_on:
            continue
        with transaction.atomic():
            claimed = (
                FollowUpWindow.objects.filter(pk=window.pk, reminders_sent=window.reminders_sent)
                .filter(appointment__isnull=True)
                .update(reminders_sent=F("reminders_sent") + 1, last_reminded_at=now)
            )
            if claimed != 1:
                continue
            created.append(
                message_create(
                    patient=patient,
                    follow_up=window,
                    kind=MessageKind.FOLLOW_UP,
                    dedupe_key=f"follow_up:{window.pk}:{window.reminders_sent + 1}",
                    body=content.follow_up_due(),
                    due_at=now,
                    zone=zone,
                )
            )
    _enqueue_on_commit(_due_now(created, now))
    return sum(1 for message in created if message is not None)


def worklist_item_resolve(*, item: WorklistItem) -> WorklistItem:
    if item.resolved_at is None:
        item.resolved_at = timezone.now()
        item.save(update_fields=["resolved_at"])
    return item
