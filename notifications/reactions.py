"""Texts as notifications' reaction to booking's visit events.

Booking records what happened (`booking.models.VisitEvent`) in the transaction that did it, and
announces the ids after commit. A worker handles each event once: the conditional UPDATE of
`handled_at` claims it inside the transaction that writes its texts, so a worker that dies half
way leaves the event unclaimed (rolled back) for the sweep, and a second worker finds it handled.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from booking.models import (
    Appointment,
    Referral,
    VisitEvent,
    VisitEventKind,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from booking.selectors import referral_days_left
from notifications import content
from notifications.models import Message, MessageKind, SuppressedReason
from notifications.outbox import messages_write, outbox_row, pending_suppress, quiet_hours_release
from notifications.visit_links import visit_link_url

logger = logging.getLogger(__name__)


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
    link, language = visit_link_url(appointment=visit), visit.patient.language
    texts = [
        _Text(
            kind=kind,
            dedupe_key=f"appointment:{visit.pk}:{kind}:{stamp}",
            body=content.visit_notice(kind=kind, appointment=visit, link=link, language=language),
            due_at=quiet_hours_release(at=now, zone=zone),
        )
    ]
    reminder = content.visit_notice(
        kind=MessageKind.REMINDER, appointment=visit, link=link, language=language
    )
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


def _fresh(appointment_id: int) -> Appointment:
    """The visit with its patient and location in one query: consent is read as it is now."""
    return Appointment.objects.select_related("patient", "location").get(pk=appointment_id)


def _visit_texts_write(*, appointment: Appointment, kind: str, now: dt.datetime) -> list[int]:
    visit = _fresh(appointment.pk)
    rows = [
        outbox_row(
            patient=visit.patient,
            appointment=visit,
            kind=text.kind,
            dedupe_key=text.dedupe_key,
            body=text.body,
            due_at=text.due_at,
            zone=visit.location.timezone,
        )
        for text in _visit_texts(visit=visit, kind=kind, now=now)
    ]
    return messages_write(rows, now=now)


def visit_booked(*, appointment: Appointment) -> list[int]:
    """A confirmation now and reminders before the visit; the ids of the texts due now."""
    return _visit_texts_write(appointment=appointment, kind=MessageKind.CONFIRMATION, now=timezone.now())


def visit_rescheduled(*, old: Appointment, new: Appointment) -> list[int]:
    """The old visit's waiting texts are never sent; the new one's notice and reminders are."""
    pending_suppress(Message.objects.filter(appointment_id=old.pk), SuppressedReason.VISIT_CHANGED)
    return _visit_texts_write(appointment=new, kind=MessageKind.RESCHEDULED, now=timezone.now())


def visit_cancelled(*, appointment: Appointment) -> list[int]:
    """A notice; the visit's waiting reminders are never sent."""
    now = timezone.now()
    pending_suppress(Message.objects.filter(appointment_id=appointment.pk), SuppressedReason.VISIT_CHANGED)
    visit = _fresh(appointment.pk)
    notice = outbox_row(
        patient=visit.patient,
        appointment=visit,
        kind=MessageKind.CANCELLED,
        dedupe_key=f"appointment:{visit.pk}:cancelled",
        body=content.visit_notice(
            kind=MessageKind.CANCELLED, appointment=visit, language=visit.patient.language
        ),
        due_at=now,
        zone=visit.location.timezone,
    )
    return messages_write([notice], now=now)


def _offers_text(*, offer_ids: list[int], kind: str, now: dt.datetime) -> list[int]:
    offers = list(
        WaitlistOffer.objects.filter(pk__in=offer_ids).select_related("entry__patient", "freed__location")
    )
    suffix = "offer" if kind == MessageKind.WAITLIST_OFFER else "gone"
    rows = [
        outbox_row(
            patient=offer.entry.patient,
            offer=offer,
            kind=kind,
            dedupe_key=f"offer:{offer.pk}:{suffix}",
            body=(
                content.waitlist_offer(appointment=offer.freed, language=offer.entry.patient.language)
                if kind == MessageKind.WAITLIST_OFFER
                else content.waitlist_gone(appointment=offer.freed, language=offer.entry.patient.language)
            ),
            due_at=now,
            zone=offer.freed.location.timezone,
        )
        for offer in offers
        # An offer answered (or lapsed) before its text was written needs no text.
        if kind != MessageKind.WAITLIST_OFFER or offer.status == WaitlistOfferStatus.OPEN
    ]
    return messages_write(rows, now=now)


def referral_received(*, referral_id: int, now: dt.datetime) -> list[int]:
    """The "we received your referral, we will call you within N days" text: once per referral (its
    dedupe key), and never what the referral is for."""
    referral = Referral.objects.select_related("patient", "preferred_location").get(pk=referral_id)
    zone = (
        referral.preferred_location.timezone
        if referral.preferred_location is not None
        else settings.SMS_DEFAULT_TIMEZONE
    )
    notice = outbox_row(
        patient=referral.patient,
        kind=MessageKind.REFERRAL_RECEIVED,
        dedupe_key=f"referral:{referral.pk}:received",
        body=content.referral_received(
            days=referral_days_left(referral, now=now), language=referral.patient.language
        ),
        due_at=now,
        zone=zone,
    )
    return messages_write([notice], now=now)


def _react(event: VisitEvent, now: dt.datetime) -> list[int]:
    if event.kind == VisitEventKind.REFERRAL_RECEIVED and event.referral_id is not None:
        return referral_received(referral_id=event.referral_id, now=now)
    # The reactions load what they need, as it is now: only the visit's id is passed on.
    kind, appointment = event.kind, Appointment(pk=event.appointment_id)
    if kind == VisitEventKind.BOOKED:
        return visit_booked(appointment=appointment)
    if kind == VisitEventKind.RESCHEDULED:
        previous = Appointment(pk=event.payload["previous"])
        return visit_rescheduled(old=previous, new=appointment)
    if kind == VisitEventKind.CANCELLED:
        return visit_cancelled(appointment=appointment)
    if kind == VisitEventKind.SLOT_FREED:
        return _offers_text(offer_ids=event.payload["offers"], kind=MessageKind.WAITLIST_OFFER, now=now)
    if kind == VisitEventKind.SLOT_TAKEN:
        return _offers_text(offer_ids=event.payload["gone"], kind=MessageKind.WAITLIST_GONE, now=now)
    logger.error("visit event of an unknown kind", extra={"event_id": event.pk, "kind": kind})
    return []


def event_handle(*, event_id: int) -> list[int]:
    """React to one event at most once; the ids of the texts due now (for the caller to send)."""
    now = timezone.now()
    with transaction.atomic():
        # The claim: whoever's UPDATE finds the row unhandled reacts; a concurrent handler waits
        # on the row lock and then finds it handled. A rollback gives the event back.
        if not VisitEvent.objects.filter(pk=event_id, handled_at__isnull=True).update(handled_at=now):
            return []
        event = VisitEvent.objects.get(pk=event_id)
        return _react(event, now)


def events_handle(*, event_ids: list[int]) -> list[int]:
    """React to each event (each in its own transaction); the ids of all texts due now."""
    due: list[int] = []
    for event_id in event_ids:
        due.extend(event_handle(event_id=event_id))
    return due
