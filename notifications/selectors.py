"""Reads for schedulers: messages and the worklist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from booking.models import Patient
from booking.services import visit_conflicts_current
from notifications.models import Message, WorklistItem


def messages_list() -> QuerySet[Message]:
    return Message.objects.select_related("patient").order_by("-created_at", "-id")


@dataclass(frozen=True)
class WorklistEntry:
    kind: str
    summary: str
    created_at: dt.datetime | None
    item_id: int | None = None
    patient_id: int | None = None
    patient_name: str = ""
    appointment_id: int | None = None
    message_id: int | None = None
    # The patient's own words, for a free-text reply: schedulers read the worklist, logs never do.
    reply_text: str = ""


def worklist_entry(item: WorklistItem) -> WorklistEntry:
    """One stored item as the worklist shows it (load it with its patient, message and reply)."""
    return WorklistEntry(
        kind=item.kind,
        summary=item.summary,
        created_at=item.created_at,
        item_id=item.pk,
        patient_id=item.patient_id,
        patient_name=str(item.patient) if item.patient is not None else "",
        appointment_id=item.message.appointment_id if item.message is not None else None,
        message_id=item.message_id,
        reply_text=item.inbound.body if item.inbound is not None else "",
    )


def worklist_open() -> list[WorklistEntry]:
    """What needs a scheduler: replies, call-back requests, failed texts, and (from booking)
    future visits that no longer fit the calendar."""
    entries = [
        worklist_entry(item)
        for item in WorklistItem.objects.filter(resolved_at__isnull=True).select_related(
            "patient", "message", "inbound"
        )
    ]
    found = visit_conflicts_current()
    patients = Patient.objects.in_bulk({conflict.appointment.patient_id for conflict in found})
    for conflict in found:
        appointment = conflict.appointment
        entries.append(
            WorklistEntry(
                kind="conflict",
                summary=f"A visit no longer fits the calendar ({str(conflict.reason).replace('_', ' ')}).",
                created_at=None,
                patient_id=appointment.patient_id,
                patient_name=str(patients.get(appointment.patient_id, "")),
                appointment_id=appointment.pk,
            )
        )
    return entries
