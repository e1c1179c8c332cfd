"""Visit events: booking's record of what happened, written in the transaction that did it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from booking.models import VisitEvent
from booking.signals import visit_events_committed


def _announce(event_ids: list[int]) -> None:
    visit_events_committed.send(sender=VisitEvent, event_ids=event_ids)


def event_record(
    *,
    kind: str,
    appointment_id: int | None = None,
    referral_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> VisitEvent:
    """Write one event about a visit or (before any visit) a referral; after commit its id is
    announced (`booking.signals`). Call inside the transaction of the change it records, so the
    event commits, or rolls back, with it."""
    event = VisitEvent.objects.create(
        kind=kind, appointment_id=appointment_id, referral_id=referral_id, payload=payload or {}
    )
    # Robust: the change is committed whatever a listener does; the sweep finds what it missed.
    transaction.on_commit(lambda: _announce([event.pk]), robust=True)
    return event
