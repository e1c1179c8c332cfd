"""A waitlist patient says yes to a freed slot: the first YES books it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from booking.models import (
    Appointment,
    VisitEventKind,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from booking.selectors.referrals import referral_open_for_booking
from booking.services.appointments import appointment_book
from booking.services.events import event_record
from practice.errors import DomainError


def waitlist_offer_accept(*, offer: WaitlistOffer) -> Appointment | None:
    """The first YES to a freed slot books it; the others' offers are gone (a `slot_taken`
    event names them, so they are told).

    Siblings serialise on a row lock of the freed (cancelled) visit, and a partial unique index
    allows one accepted offer per slot, so two YESes can never both win. None: it was gone.
    The visit is booked from the patient's one open referral of its type and tier, if any.
    """
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
                        # Booked from the patient's open referral: it leaves the queue (so nobody
                        # books them twice) and the access report counts the visit.
                        referral=referral_open_for_booking(
                            patient_id=offer.entry.patient_id,
                            appointment_type_id=freed.appointment_type_id,
                            tier_id=offer.entry.tier_id,
                        ),
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
        for sibling in WaitlistOffer.objects.filter(freed=freed, status=WaitlistOfferStatus.OPEN):
            sibling.status, sibling.answered_at = WaitlistOfferStatus.GONE, now
            sibling.save(update_fields=["status", "answered_at"])
            WaitlistEntry.objects.filter(pk=sibling.entry_id, status=WaitlistStatus.OFFERED).update(
                status=WaitlistStatus.WAITING
            )
            gone.append(sibling.pk)
        if gone:
            event_record(kind=VisitEventKind.SLOT_TAKEN, appointment_id=freed.pk, payload={"gone": gone})
    return booked
