"""The scheduler worklist: replies that need a person, and texts that failed for good."""

from __future__ import annotations

from django.utils import timezone

from booking.models import Patient
from notifications.models import InboundMessage, Message, WorklistItem, WorklistKind


def worklist_reply_add(*, inbound: InboundMessage, patient: Patient | None, kind: str, summary: str) -> None:
    WorklistItem.objects.create(kind=kind, patient=patient, inbound=inbound, summary=summary)


def worklist_failure_add(*, message: Message, summary: str) -> None:
    """Once per text, however many times its failure is reported."""
    WorklistItem.objects.get_or_create(
        message=message,
        defaults={"kind": WorklistKind.FAILED_MESSAGE, "patient_id": message.patient_id, "summary": summary},
    )


def worklist_item_resolve(*, item: WorklistItem) -> WorklistItem:
    if item.resolved_at is None:
        item.resolved_at = timezone.now()
        item.save(update_fields=["resolved_at"])
    return item
