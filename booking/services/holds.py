"""Holds: a slot kept for HOLD_MINUTES while a booking is completed (see `booking.models.Hold`).

A hold is written under its surgeon's transaction lock, after the same checks as a booking's, so
that it never keeps a slot its booking would refuse: the slot (`slot_refusal`, which also sees
unexpired holds), the tier's window (`window_check`; from a referral, its due_by; past it only
with a `window_override_reason`, which the booking inherits) and, when the hold names a patient,
the patient's other visits (`patient_free_check`). Expired holds of the surgeon are deleted
first, in that transaction: expiry needs no task. On PostgreSQL an exclusion constraint refuses
two overlapping holds of one surgeon whatever got past the checks. Booking the held slot is
`appointment_book(..., hold=hold)`.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.models import Hold, Patient, Referral
from booking.services.appointments import (
    User,
    _slot_unavailable,
    _user_or_none,
    bookable_check,
    patient_free_check,
    slot_free_check,
    window_check,
)
from booking.services.deadlocks import surgeon_serialised
from booking.services.referrals import referral_for_booking
from locations.models import Location, Surgeon
from practice.errors import ConcurrentChange
from practice.models import AppointmentType, UrgencyTier

HOLD_CONSTRAINT = "hold_no_surgeon_double_hold"


def hold_create(
    *,
    surgeon: Surgeon,
    location: Location,
    appointment_type: AppointmentType,
    tier: UrgencyTier,
    start: dt.datetime,
    patient: Patient | None = None,
    referral: Referral | None = None,
    window_override_reason: str = "",
    held_by: User | None = None,
    now: dt.datetime | None = None,
) -> Hold:
    """Hold a free slot until now + HOLD_MINUTES: search stops offering it, and only a booking
    naming the hold can take it. Refuses what its booking would refuse: a slot that search would
    not offer, held ones included (409 with the refusal's code, and the next free slots); a start
    past the tier's window (from a `referral`, its due_by) without a `window_override_reason`
    (409 outside_tier_window); a time the patient (named, else the referral's) already has a visit
    at (409 patient_unavailable)."""
    now = now or timezone.now()
    window_override_reason = window_override_reason.strip()
    bookable_check(surgeon=surgeon, location=location, appointment_type=appointment_type, start=start)
    try:
        with transaction.atomic():
            surgeon_serialised(surgeon_id=surgeon.pk)
            Hold.objects.filter(surgeon=surgeon, expires_at__lte=now).delete()
            slot_free_check(
                surgeon=surgeon,
                location=location,
                appointment_type=appointment_type,
                tier=tier,
                start=start,
                now=now,
            )
            locked_referral = None
            if referral is not None:
                patient = patient or referral.patient
                locked_referral = referral_for_booking(
                    referral=referral, patient=patient, tier=tier, appointment_type=appointment_type
                )
            within_window = window_check(
                tier=tier,
                location=location,
                start=start,
                window_override_reason=window_override_reason,
                now=now,
                referral=locked_referral,
            )
            end = start + dt.timedelta(minutes=appointment_type.duration_minutes)
            if patient is not None:
                patient_free_check(patient=patient, start=start, end=end)
            return Hold.objects.create(
                surgeon=surgeon,
                location=location,
                appointment_type=appointment_type,
                tier=tier,
                patient=patient,
                referral=locked_referral,
                window_override_reason="" if within_window else window_override_reason,
                start=start,
                end=end,
                busy_until=end + dt.timedelta(minutes=appointment_type.buffer_minutes),
                expires_at=now + dt.timedelta(minutes=settings.HOLD_MINUTES),
                held_by=_user_or_none(held_by),
            )
    except IntegrityError as error:
        if HOLD_CONSTRAINT in str(error):
            raise _slot_unavailable(
                surgeon=surgeon,
                location=location,
                appointment_type=appointment_type,
                tier=tier,
                start=start,
                now=now,
            ) from error
        raise ConcurrentChange() from error


def hold_release(*, hold: Hold) -> None:
    """Give a held slot back at once (a patient said no, a portal gave up)."""
    Hold.objects.filter(pk=hold.pk).delete()
