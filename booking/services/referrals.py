"""Referrals: the scheduler's queue. A referral's tier clock starts when it arrives; booking from
it (`appointment_book(referral=...)`) schedules it, and a cancelled or missed visit puts it back
in the queue with its original clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from booking.models import (
    OPEN_REFERRAL_STATUSES,
    Appointment,
    Patient,
    Referral,
    ReferralCloseReason,
    ReferralStatus,
    VisitEventKind,
)
from booking.selectors import tier_window_end
from booking.services.events import event_record
from locations.models import Location, Surgeon
from practice.errors import Conflict, InvalidInput
from practice.models import AppointmentType, UrgencyTier


class ReferralNotOpen(Conflict):
    code = "referral_not_open"
    default_message = "The referral is not waiting in the queue."


def referral_timezone(*, preferred_location: Location | None) -> str:
    """The zone a referral's days are counted in: its preferred clinic's, else the practice's
    (SMS_DEFAULT_TIMEZONE, the zone of everything not tied to a location)."""
    return preferred_location.timezone if preferred_location is not None else settings.SMS_DEFAULT_TIMEZONE


def referral_due_by(
    *, tier: UrgencyTier, received_at: dt.datetime, preferred_location: Location | None
) -> dt.datetime:
    """The end of the local day `max_wait_days` after `received_at` (the next local midnight,
    in UTC): a visit starting before it is within the tier's window."""
    return tier_window_end(
        tier=tier,
        timezone=referral_timezone(preferred_location=preferred_location),
        now=received_at,
    )


def _user(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _save(referral: Referral, user: Any, fields: list[str]) -> None:
    referral.changed_by = _user(user)
    referral._history_user = referral.changed_by  # type: ignore[attr-defined]
    referral.save(update_fields=[*fields, "changed_by", "updated_at"])


def referral_create(
    *,
    patient: Patient,
    tier: UrgencyTier,
    appointment_type: AppointmentType,
    received_at: dt.datetime | None = None,
    source: str = "",
    preferred_location: Location | None = None,
    preferred_surgeon: Surgeon | None = None,
    notes: str = "",
    created_by: Any = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Record a referral (status `new`) and its `referral_received` event, from which the
    patient is told, once, that it arrived."""
    now = now or timezone.now()
    received_at = received_at or now
    if timezone.is_naive(received_at):
        raise InvalidInput.for_field("received_at", "Include a UTC offset.")
    if received_at > now:
        raise InvalidInput.for_field("received_at", "A referral cannot be received in the future.")
    if not appointment_type.is_active:
        raise InvalidInput.for_field("appointment_type", "This appointment type is inactive.")
    referral = Referral(
        patient=patient,
        tier=tier,
        appointment_type=appointment_type,
        received_at=received_at,
        source=source.strip(),
        preferred_location=preferred_location,
        preferred_surgeon=preferred_surgeon,
        notes=notes,
        due_by=referral_due_by(tier=tier, received_at=received_at, preferred_location=preferred_location),
        changed_by=_user(created_by),
    )
    referral._history_user = referral.changed_by  # type: ignore[attr-defined]
    with transaction.atomic():
        referral.save()
        event_record(kind=VisitEventKind.REFERRAL_RECEIVED, referral_id=referral.pk)
    return referral


def _locked(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("tier", "appointment_type", "preferred_location")
        .get(pk=referral.pk)
    )


_UNSET: Any = object()


def referral_triage(
    *,
    referral: Referral,
    tier: UrgencyTier | None = None,
    appointment_type: AppointmentType | None = None,
    preferred_location: Location | None = _UNSET,
    preferred_surgeon: Surgeon | None = _UNSET,
    notes: str | None = None,
    triaged_by: Any = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Triage a waiting referral (new or triaged): its tier, type and preferences. A new tier or
    clinic recomputes `due_by` from the original `received_at`; the history keeps the old one.
    Locks the row (SELECT FOR UPDATE)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(referral)
        if current.status not in OPEN_REFERRAL_STATUSES:
            raise ReferralNotOpen(
                f"Only a new or triaged referral can be triaged; this one is {current.status}.",
                fields={"status": [f"Current status: {current.status}."]},
                extra={"status": current.status},
            )
        if tier is not None:
            current.tier = tier
        if appointment_type is not None:
            current.appointment_type = appointment_type
        if preferred_location is not _UNSET:
            current.preferred_location = preferred_location
        if preferred_surgeon is not _UNSET:
            current.preferred_surgeon = preferred_surgeon
        if notes is not None:
            current.notes = notes
        current.due_by = referral_due_by(
            tier=current.tier, received_at=current.received_at, preferred_location=current.preferred_location
        )
        current.status = ReferralStatus.TRIAGED
        current.triaged_at = now
        _save(
            current,
            triaged_by,
            [
                "tier",
                "appointment_type",
                "preferred_location",
                "preferred_surgeon",
                "notes",
                "due_by",
                "status",
                "triaged_at",
            ],
        )
    return current


def referral_close(*, referral: Referral, reason: str, closed_by: Any = None) -> Referral:
    """Close a referral that will not be (or was elsewhere) seen. Locks the row."""
    if reason not in ReferralCloseReason.values:
        raise InvalidInput.for_field("reason", f"Use one of: {', '.join(ReferralCloseReason.values)}.")
    with transaction.atomic():
        current = _locked(referral)
        if current.status == ReferralStatus.CLOSED:
            raise ReferralNotOpen(
                "The referral is already closed.",
                fields={"status": [f"Current status: {current.status}."]},
                extra={"status": current.status},
            )
        current.status = ReferralStatus.CLOSED
        current.close_reason = reason
        _save(current, closed_by, ["status", "close_reason"])
    return current


def referral_for_booking(
    *, referral: Referral, patient: Patient, tier: UrgencyTier, appointment_type: AppointmentType
) -> Referral:
    """The referral's current row, locked, checked that a visit for `patient` of its tier and
    type may be booked from it (another tier or type is a re-triage first: the tier decides the
    reserved capacity it may take and the clock it is judged by). Call inside the booking's
    transaction."""
    current = _locked(referral)
    if current.patient_id != patient.pk:
        raise InvalidInput.for_field("referral", "The referral is for another patient.")
    if current.tier_id != tier.pk:
        raise InvalidInput.for_field(
            "tier", f"The referral is triaged {current.tier.code}; re-triage it to book another tier."
        )
    if current.appointment_type_id != appointment_type.pk:
        raise InvalidInput.for_field(
            "appointment_type",
            f"The referral asks for {current.appointment_type.code}; re-triage it to book another type.",
        )
    if current.status not in OPEN_REFERRAL_STATUSES:
        raise ReferralNotOpen(
            f"Only a new or triaged referral can be booked from; this one is {current.status}.",
            fields={"referral": [f"Current status: {current.status}."]},
            extra={"status": current.status},
        )
    return current


def referral_schedule(*, referral: Referral, appointment: Appointment, booked_by: Any = None) -> None:
    """The visit booked from it: the referral leaves the queue. Call with the row locked."""
    referral.status = ReferralStatus.SCHEDULED
    referral.appointment = appointment
    _save(referral, booked_by, ["status", "appointment"])


def referral_follow(*, old: Appointment, new: Appointment) -> None:
    """A visit moved: its referral follows the new visit (the clock is unchanged)."""
    for referral in Referral.objects.select_for_update(of=("self",)).filter(appointment=old):
        referral.appointment = new
        _save(referral, None, ["appointment"])


def referral_requeue(*, appointment: Appointment) -> None:
    """A visit booked from a referral was cancelled or missed: the referral goes back in the
    queue (triaged if it had been, else new) with its original `received_at` and `due_by`."""
    scheduled = Referral.objects.select_for_update(of=("self",)).filter(
        appointment=appointment, status=ReferralStatus.SCHEDULED
    )
    for referral in scheduled:
        referral.status = ReferralStatus.TRIAGED if referral.triaged_at else ReferralStatus.NEW
        referral.appointment = None
        _save(referral, None, ["status", "appointment"])
