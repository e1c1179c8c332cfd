"""Booking a visit and its lifecycle: confirm, check in, complete, no-show, cancel, reschedule.

Each change records a visit event (`booking.services.events`) in its own transaction; texts are
notifications' reaction to those events, after commit.

No double booking is the database's job: on PostgreSQL two exclusion constraints refuse a
surgeon's (start, busy_until) or a patient's (start, end) overlapping another active visit; the
violation becomes a 409 here. On SQLite the same overlaps are checked inside the IMMEDIATE
transaction, which serialises writers, so the checks cannot race: `slot_is_free` reads the
surgeon's active visits and `_patient_is_busy` the patient's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from rest_framework import status

from booking.availability import REFUSAL_CODES, REFUSAL_TAKEN, Refusal, slot_data, zone
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Hold,
    Patient,
    Referral,
    VisitEventKind,
)
from booking.selectors import refusal_message, slot_refusal, slots_next, tier_window_end
from booking.services.deadlocks import ATTEMPTS, deadlock_victim, retry_serialised
from booking.services.events import event_record
from booking.services.referrals import referral_follow, referral_for_booking, referral_schedule
from booking.services.surgeries import follow_up_link, follow_up_unlink
from booking.services.transitions import appointment_locked, transition_check
from booking.services.waitlist import slot_offer
from locations.models import Location, Surgeon
from practice.db import insert_with_history
from practice.errors import ConcurrentChange, Conflict, DomainError, InvalidInput
from practice.models import AppointmentType, UrgencyTier

# How many alternatives a refused booking offers.
NEXT_SLOTS_OFFERED = 5
RESCHEDULED_REASON = "Rescheduled"

SURGEON_CONSTRAINT = "appointment_no_surgeon_double_booking"
PATIENT_CONSTRAINT = "appointment_no_patient_double_booking"


class SlotUnavailable(Conflict):
    """A start slot search would not offer; `code` says why (`booking.availability.REFUSAL_CODES`)."""

    code = REFUSAL_TAKEN
    codes = REFUSAL_CODES
    default_message = "The surgeon already has a visit at that time."

    def __init__(self, message: str | None = None, *, code: str = REFUSAL_TAKEN, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


class PatientUnavailable(Conflict):
    code = "patient_unavailable"
    default_message = "The patient already has a visit at that time."


class OutsideTierWindow(Conflict):
    code = "outside_tier_window"
    default_message = (
        "The start is later than the tier allows; give window_override_reason to book it anyway."
    )


class InactiveReference(DomainError):
    code = "inactive"
    status_code = status.HTTP_400_BAD_REQUEST


class HoldExpired(Conflict):
    code = "hold_expired"
    default_message = "The hold has expired or was released: book the slot without it, if it is still free."


class HoldMismatch(InvalidInput):
    code = "hold_mismatch"
    default_message = "The booking differs from its hold."


User = AbstractBaseUser | AnonymousUser


def _user_or_none(user: User | None) -> Any:
    return user if user is not None and user.is_authenticated else None


# --- Booking ------------------------------------------------------------------------------------


def _slot_unavailable(
    *,
    surgeon: Surgeon,
    location: Location,
    appointment_type: AppointmentType,
    tier: UrgencyTier,
    start: dt.datetime,
    now: dt.datetime,
    refusal: Refusal | None = None,
) -> SlotUnavailable:
    """A 409 saying why (`refusal`; none: taken), with the next free slots for the same surgeon,
    location and type."""
    refusal = refusal or Refusal(REFUSAL_TAKEN)
    message = refusal_message(refusal, appointment_type=appointment_type, timezone=location.timezone)
    extra: dict[str, Any] = {}
    if refusal.release_at is not None:
        extra["release_at"] = refusal.release_at.astimezone(zone(location.timezone)).isoformat()
        extra["reserved_for_tier"] = refusal.reserved_tier_code
    slots = slots_next(
        surgeon_id=surgeon.pk,
        location_id=location.pk,
        appointment_type=appointment_type,
        tier=tier,
        after=max(start, now),
        limit=NEXT_SLOTS_OFFERED,
        now=now,
    )
    return SlotUnavailable(
        message,
        code=refusal.code,
        fields={"start": [message]},
        extra={**extra, "next_slots": [slot_data(slot) for slot in slots]},
    )


def _refusal(
    error: IntegrityError,
    *,
    surgeon: Surgeon,
    location: Location,
    appointment_type: AppointmentType,
    tier: UrgencyTier,
    start: dt.datetime,
    now: dt.datetime,
) -> DomainError:
    """The 409 for an integrity violation: a concurrent booking won the race that the checks
    could not see (an exclusion constraint), or a row the booking names changed meanwhile. Call
    after the failed atomic block has rolled back."""
    if SURGEON_CONSTRAINT in str(error):
        return _slot_unavailable(
            surgeon=surgeon,
            location=location,
            appointment_type=appointment_type,
            tier=tier,
            start=start,
            now=now,
        )
    if PATIENT_CONSTRAINT in str(error):
        return PatientUnavailable(fields={"patient": [PatientUnavailable.default_message]})
    return ConcurrentChange()


def _deferred_checks_now(*, nested: bool) -> None:
    """Run the foreign-key checks PostgreSQL defers to commit now, when the caller's transaction
    (an Idempotency-Key's) will commit later: a patient or surgeon deleted meanwhile is then
    refused here, as a 409, instead of after the response was built. Outermost, the commit at
    the end of our own block checks them, at no extra cost."""
    if nested and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # IMMEDIATE checks what is pending; DEFERRED (every constraint's default here) gives the
            # rest of the caller's transaction back its deferral.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")


def _patient_is_busy(*, patient: Patient, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the patient has another active visit overlapping [start, end).

    The guard on SQLite (call inside the IMMEDIATE transaction, which serialises writers); on
    PostgreSQL the exclusion constraint guards instead, saving the query. The surgeon's side is
    part of `slot_is_free`, which reads the surgeon's active visits.
    """
    return Appointment.objects.filter(
        patient=patient, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
    ).exists()


def patient_free_check(*, patient: Patient, start: dt.datetime, end: dt.datetime) -> None:
    """Refuse (409 patient_unavailable) a time overlapping another active visit of the patient."""
    if _patient_is_busy(patient=patient, start=start, end=end):
        raise PatientUnavailable(fields={"patient": [PatientUnavailable.default_message]})


def window_check(
    *,
    tier: UrgencyTier,
    location: Location,
    start: dt.datetime,
    window_override_reason: str,
    now: dt.datetime,
    referral: Referral | None = None,
) -> bool:
    """Whether `start` is within the tier's window, counted from `now` (or, booked from a
    `referral`, ending at its `due_by`). Refuses (409 outside_tier_window) a start past it unless
    a `window_override_reason` is given."""
    if referral is not None:
        window_end = referral.due_by
    else:
        window_end = tier_window_end(tier=tier, timezone=location.timezone, now=now)
    within_window = start < window_end
    if not within_window and not window_override_reason.strip():
        raise OutsideTierWindow(
            fields={"window_override_reason": [OutsideTierWindow.default_message]},
            extra={"window_end": window_end.isoformat()},
        )
    return within_window


def _window_anchor(appointment: Appointment | None, now: dt.datetime) -> dt.datetime:
    """When the patient's wait began: the first booking of a chain of reschedules, else now."""
    anchor = now
    seen = 0
    while appointment is not None and seen < 50:
        anchor = min(anchor, appointment.booked_at)
        appointment = appointment.rescheduled_from
        seen += 1
    return anchor


def slot_free_check(
    *,
    surgeon: Surgeon,
    location: Location,
    appointment_type: AppointmentType,
    tier: UrgencyTier,
    start: dt.datetime,
    now: dt.datetime,
) -> None:
    """Refuse (409, saying why, with the next free slots) a start slot search would not offer,
    held slots included. Call inside the writing transaction, holding the surgeon's lock."""
    refusal = slot_refusal(
        appointment_type=appointment_type,
        tier=tier,
        surgeon_id=surgeon.pk,
        location_id=location.pk,
        start=start,
        now=now,
    )
    if refusal is not None:
        raise _slot_unavailable(
            surgeon=surgeon,
            location=location,
            appointment_type=appointment_type,
            tier=tier,
            start=start,
            now=now,
            refusal=refusal,
        )


def bookable_check(
    *, surgeon: Surgeon, location: Location, appointment_type: AppointmentType, start: dt.datetime
) -> None:
    """Refuse a naive start or an inactive surgeon, location or type (400), before any slot check."""
    if timezone.is_naive(start):
        raise InvalidInput.for_field("start", "Include a UTC offset.")
    for field, reference in (
        ("surgeon", surgeon),
        ("location", location),
        ("appointment_type", appointment_type),
    ):
        if not reference.is_active:
            raise InactiveReference(
                f"This {field.replace('_', ' ')} is inactive.", fields={field: ["Inactive."]}
            )


def _hold_take(
    *,
    hold_id: int,
    patient: Patient,
    surgeon: Surgeon,
    location: Location,
    appointment_type: AppointmentType,
    tier: UrgencyTier,
    start: dt.datetime,
    now: dt.datetime,
    referral: Referral | None,
) -> Hold:
    """Delete the unexpired hold a booking names, so that its time is free for that booking alone,
    and return it (the booking inherits its window override reason and referral). Call holding
    the surgeon's lock (`surgeon_serialised`), inside the booking's transaction."""
    held = Hold.objects.select_for_update().filter(pk=hold_id).first()
    if held is None or held.expires_at <= now:
        raise HoldExpired(fields={"hold": [HoldExpired.default_message]})
    differing = [
        name
        for name, booked, kept in (
            ("surgeon", surgeon.pk, held.surgeon_id),
            ("location", location.pk, held.location_id),
            ("appointment_type", appointment_type.pk, held.appointment_type_id),
            ("tier", tier.pk, held.tier_id),
            ("start", start, held.start),
            ("patient", patient.pk, held.patient_id or patient.pk),
        )
        if booked != kept
    ]
    if referral is not None and held.referral_id not in (None, referral.pk):
        differing.append("referral")
    if differing:
        raise HoldMismatch(fields={name: ["Differs from the hold's."] for name in differing})
    held.delete()
    return held


def _book(
    *,
    patient: Patient,
    surgeon: Surgeon,
    location: Location,
    appointment_type: AppointmentType,
    tier: UrgencyTier,
    start: dt.datetime,
    booked_by: User | None,
    reason: str,
    window_override_reason: str,
    now: dt.datetime,
    rescheduled_from: Appointment | None = None,
    referral: Referral | None = None,
) -> Appointment:
    """Validate and write one appointment. Call inside transaction.atomic. With a `referral`
    (the locked row), the tier's window ends at its `due_by`: the clock started when it arrived."""
    bookable_check(surgeon=surgeon, location=location, appointment_type=appointment_type, start=start)

    end = start + dt.timedelta(minutes=appointment_type.duration_minutes)
    busy_until = end + dt.timedelta(minutes=appointment_type.buffer_minutes)

    slot_free_check(
        surgeon=surgeon, location=location, appointment_type=appointment_type, tier=tier, start=start, now=now
    )

    within_window = window_check(
        tier=tier,
        location=location,
        start=start,
        window_override_reason=window_override_reason,
        now=_window_anchor(rescheduled_from, now),
        referral=referral,
    )
    window_override_reason = window_override_reason.strip()

    if connection.vendor != "postgresql":
        patient_free_check(patient=patient, start=start, end=end)

    appointment = Appointment(
        patient=patient,
        surgeon=surgeon,
        location=location,
        appointment_type=appointment_type,
        tier=tier,
        start=start,
        end=end,
        busy_until=busy_until,
        status=AppointmentStatus.BOOKED,
        reason=reason,
        within_window=within_window,
        window_override_reason=window_override_reason if not within_window else "",
        booked_by=_user_or_none(booked_by),
        rescheduled_from=rescheduled_from,
    )
    appointment._history_user = appointment.booked_by  # type: ignore[attr-defined]
    # No savepoint here: an exclusion violation aborts the caller's atomic block, and the caller
    # turns it into a 409 once that block has rolled back (see _refusal).
    insert_with_history(appointment)
    return appointment


def appointment_book(
    *,
    patient: Patient,
    surgeon: Surgeon,
    location: Location,
    appointment_type: AppointmentType,
    tier: UrgencyTier,
    start: dt.datetime,
    booked_by: User | None = None,
    reason: str = "",
    window_override_reason: str = "",
    referral: Referral | None = None,
    now: dt.datetime | None = None,
    hold_id: int | None = None,
) -> Appointment:
    """Book a visit after re-validating its slot with the same code as slot search.

    Refuses (409) a slot that is not free, saying why and offering the next free ones; a start
    past the tier's window unless `window_override_reason` is given; and any overlap for the
    surgeon or patient. Booked from a `referral` (new or triaged, the same patient's), the window
    ends at the referral's `due_by` and the referral becomes scheduled. With `hold_id`, books the
    held slot: the hold must be unexpired (else 409 hold_expired) and name the same slot and tier
    (and patient, if it names one; else 400 hold_mismatch); it is used up.
    """
    now = now or timezone.now()
    nested = connection.in_atomic_block
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                retry_serialised(attempt=attempt, surgeon_id=surgeon.pk, patient_id=patient.pk)
                if hold_id is not None:
                    held = _hold_take(
                        hold_id=hold_id,
                        patient=patient,
                        surgeon=surgeon,
                        location=location,
                        appointment_type=appointment_type,
                        tier=tier,
                        start=start,
                        now=now,
                        referral=referral,
                    )
                    window_override_reason = window_override_reason or held.window_override_reason
                    referral = referral or held.referral
                locked_referral = (
                    None
                    if referral is None
                    else referral_for_booking(
                        referral=referral, patient=patient, tier=tier, appointment_type=appointment_type
                    )
                )
                appointment = _book(
                    patient=patient,
                    surgeon=surgeon,
                    location=location,
                    appointment_type=appointment_type,
                    tier=tier,
                    start=start,
                    booked_by=booked_by,
                    reason=reason,
                    window_override_reason=window_override_reason,
                    now=now,
                    referral=locked_referral,
                )
                if locked_referral is not None:
                    referral_schedule(referral=locked_referral, appointment=appointment, booked_by=booked_by)
                follow_up_link(appointment=appointment)
                event_record(kind=VisitEventKind.BOOKED, appointment_id=appointment.pk)
                _deferred_checks_now(nested=nested)
            break
        except IntegrityError as error:
            raise _refusal(
                error,
                surgeon=surgeon,
                location=location,
                appointment_type=appointment_type,
                tier=tier,
                start=start,
                now=now,
            ) from error
        except OperationalError as error:
            deadlock_victim(error, nested=nested, attempt=attempt)
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: dt.datetime,
    surgeon: Surgeon | None = None,
    location: Location | None = None,
    appointment_type: AppointmentType | None = None,
    rescheduled_by: User | None = None,
    window_override_reason: str = "",
    now: dt.datetime | None = None,
    hold_id: int | None = None,
) -> Appointment:
    """Move a visit: a new appointment linked to the old one, and the old one cancelled.

    Atomic: if the new slot is refused, nothing changed. The tier and reason carry over; the
    tier's window still counts from the first booking of the chain. With `hold_id`, moves into
    the held slot as appointment_book does: the hold must be unexpired and name the new slot, the
    visit's tier (and patient, if it names one); it is used up.
    """
    now = now or timezone.now()
    nested = connection.in_atomic_block
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                retry_serialised(
                    attempt=attempt,
                    surgeon_id=surgeon.pk if surgeon else appointment.surgeon_id,
                    patient_id=appointment.patient_id,
                )
                # Everything the new booking carries over comes with the lock: one query, not six.
                old = appointment_locked(
                    appointment,
                    "patient",
                    "surgeon",
                    "location",
                    "appointment_type",
                    "tier",
                    "rescheduled_from",
                )
                transition_check(old, "reschedule")
                referral = Referral.objects.filter(appointment=old).order_by("-id").first()
                # What the new visit keeps of the old one unless the move changes it.
                surgeon = surgeon or old.surgeon
                location = location or old.location
                appointment_type = appointment_type or old.appointment_type
                if hold_id is not None:
                    held = _hold_take(
                        hold_id=hold_id,
                        patient=old.patient,
                        surgeon=surgeon,
                        location=location,
                        appointment_type=appointment_type,
                        tier=old.tier,
                        start=start,
                        now=now,
                        referral=referral,
                    )
                    window_override_reason = window_override_reason or held.window_override_reason
                # Free the old time first: a move by half an hour overlaps the visit it replaces.
                old.status = AppointmentStatus.CANCELLED
                old.cancelled_at = now
                old.cancellation_reason = RESCHEDULED_REASON
                old.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])
                new = _book(
                    patient=old.patient,
                    surgeon=surgeon,
                    location=location,
                    appointment_type=appointment_type,
                    tier=old.tier,
                    start=start,
                    booked_by=rescheduled_by,
                    reason=old.reason,
                    window_override_reason=window_override_reason or old.window_override_reason,
                    now=now,
                    rescheduled_from=old,
                    referral=referral,
                )
                if referral is not None:
                    referral_follow(old=old, new=new)
                follow_up_unlink(appointment=old)
                follow_up_link(appointment=new)
                event_record(
                    kind=VisitEventKind.RESCHEDULED, appointment_id=new.pk, payload={"previous": old.pk}
                )
                if old.start > now:
                    slot_offer(appointment=old)
                _deferred_checks_now(nested=nested)
            break
        except IntegrityError as error:
            raise _refusal(
                error,
                surgeon=surgeon or appointment.surgeon,
                location=location or appointment.location,
                appointment_type=appointment_type or appointment.appointment_type,
                tier=appointment.tier,
                start=start,
                now=now,
            ) from error
        except OperationalError as error:
            deadlock_victim(error, nested=nested, attempt=attempt)
    return new
