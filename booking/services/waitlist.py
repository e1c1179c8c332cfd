"""The waitlist: patients who want an earlier visit, and the offers of freed slots to them.

A cancelled or moved visit frees its slot; `slot_offer` offers it to the best-matching waiting
patients (notifications texts them, reacting to the `slot_freed` event), and the first to say yes
gets it (`booking.services.waitlist_accept`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from booking.models import (
    Appointment,
    Patient,
    VisitEventKind,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from booking.selectors import slot_is_free, waitlist_matches
from booking.services.events import event_record
from locations.models import Location, Surgeon
from practice.clock import practice_today
from practice.errors import InvalidInput
from practice.models import AppointmentType, UrgencyTier

# --- Entries ------------------------------------------------------------------------------------

WAITLIST_FIELDS = {
    "patient",
    "tier",
    "appointment_type",
    "surgeon",
    "location",
    "earliest_date",
    "latest_date",
    "status",
}


def _waitlist_validate(entry: WaitlistEntry) -> None:
    if entry.latest_date < entry.earliest_date:
        raise InvalidInput.for_field("latest_date", "The latest date is before the earliest date.")


def waitlist_entry_create(
    *,
    patient: Patient,
    tier: UrgencyTier,
    appointment_type: AppointmentType,
    earliest_date: dt.date,
    latest_date: dt.date,
    surgeon: Surgeon | None = None,
    location: Location | None = None,
) -> WaitlistEntry:
    entry = WaitlistEntry(
        patient=patient,
        tier=tier,
        appointment_type=appointment_type,
        surgeon=surgeon,
        location=location,
        earliest_date=earliest_date,
        latest_date=latest_date,
    )
    _waitlist_validate(entry)
    entry.save()
    return entry


def waitlist_entry_update(*, entry: WaitlistEntry, data: dict[str, Any]) -> WaitlistEntry:
    unknown = set(data) - WAITLIST_FIELDS
    if unknown:
        raise ValueError(f"waitlist_entry_update got unknown fields {sorted(unknown)}")
    for name, value in data.items():
        setattr(entry, name, value)
    _waitlist_validate(entry)
    entry.save()
    return entry


def waitlist_entry_delete(*, entry: WaitlistEntry) -> None:
    entry.delete()


def waitlist_entries_expire(*, today: dt.date | None = None) -> int:
    """Withdraw waiting entries whose latest date has passed in the practice's zone; returns how
    many."""
    today = today or practice_today()
    return WaitlistEntry.objects.filter(
        Q(status=WaitlistStatus.WAITING) | Q(status=WaitlistStatus.OFFERED), latest_date__lt=today
    ).update(status=WaitlistStatus.WITHDRAWN)


# --- Offers of freed slots -----------------------------------------------------------------------


def slot_offer(*, appointment: Appointment) -> list[WaitlistOffer]:
    """The slot `appointment` held is free again: offer it to matching waitlist patients who can
    read a text, and record a `slot_freed` event naming the offers.

    Call inside the transaction that freed it, holding the freed visit's row lock: the offers,
    the entries' new status and the event are one write each."""
    now = timezone.now()
    if appointment.start <= now:
        return []
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
        return []
    offers = WaitlistOffer.objects.bulk_create(
        WaitlistOffer(entry=entry, freed=appointment) for entry in chosen
    )
    WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in chosen], status=WaitlistStatus.WAITING).update(
        status=WaitlistStatus.OFFERED
    )
    event_record(
        kind=VisitEventKind.SLOT_FREED,
        appointment_id=appointment.pk,
        payload={"offers": [offer.pk for offer in offers]},
    )
    return offers


def waitlist_offer_open(*, patient: Patient) -> WaitlistOffer | None:
    """The patient's latest offer still waiting for an answer."""
    return (
        WaitlistOffer.objects.filter(entry__patient=patient, status=WaitlistOfferStatus.OPEN)
        .order_by("-created_at")
        .first()
    )


def waitlist_offer_recently_gone(*, patient: Patient) -> bool:
    """Whether an offer to the patient went to someone else (or lapsed) in the last week."""
    return WaitlistOffer.objects.filter(
        entry__patient=patient,
        status=WaitlistOfferStatus.GONE,
        answered_at__gte=timezone.now() - dt.timedelta(days=7),
    ).exists()


def waitlist_offers_lapse(*, now: dt.datetime | None = None) -> int:
    """Open offers nobody answered in time, or whose slot is about to start, are gone; their
    patients wait for the next freed slot again (an offered entry is not offered another)."""
    now = now or timezone.now()
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
