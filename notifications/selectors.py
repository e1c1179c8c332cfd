"""Reads for schedulers: messages, the worklist, follow-up windows and their state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, CharField, Prefetch, QuerySet, Value, When

from booking.models import FollowUpWindow, Patient, Surgery
from booking.selectors import appointment_conflicts
from notifications.models import Message, WorklistItem
from practice.clock import practice_today


class FollowUpState:
    UPCOMING = "upcoming"
    OPEN = "open"
    BOOKED = "booked"
    OVERDUE = "overdue"
    ALL = (UPCOMING, OPEN, BOOKED, OVERDUE)


def messages_list() -> QuerySet[Message]:
    return Message.objects.select_related("patient").order_by("-created_at", "-id")


def follow_ups_list(*, today: dt.date | None = None) -> QuerySet[FollowUpWindow]:
    """Windows with their `state` on the practice's calendar: booked, upcoming, open or overdue."""
    today = today or practice_today()
    return (
        FollowUpWindow.objects.select_related("surgery__patient")
        .annotate(
            state=Case(
                When(appointment__isnull=False, then=Value(FollowUpState.BOOKED)),
                When(opens_on__gt=today, then=Value(FollowUpState.UPCOMING)),
                When(closes_on__lt=today, then=Value(FollowUpState.OVERDUE)),
                default=Value(FollowUpState.OPEN),
                output_field=CharField(),
            )
        )
        .order_by("opens_on", "id")
    )


def surgeries_list() -> QuerySet[Surgery]:
    return Surgery.objects.prefetch_related(
        Prefetch(
            "follow_ups", queryset=follow_ups_list().select_related(None).select_related("surgery__patient")
        )
    ).order_by("-performed_on", "-id")


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


def worklist_entry(item: WorklistItem) -> WorklistEntry:
    """One stored item as the worklist shows it (load it with its patient and message)."""
    return WorklistEntry(
        kind=item.kind,
        summary=item.summary,
        created_at=item.created_at,
        item_id=item.pk,
        patient_id=item.patient_id,
        patient_name=str(item.patient) if item.patient is not None else "",
        appointment_id=item.message.appointment_id if item.message is not None else None,
        message_id=item.message_id,
    )


def worklist_open() -> list[WorklistEntry]:
    """What needs a scheduler: replies, call-back requests, failed texts, and (from booking)
    future visits that no longer fit the calendar."""
    entries = [
        worklist_entry(item)
        for item in WorklistItem.objects.filter(resolved_at__isnull=True).select_related("patient", "message")
    ]
    found = appointment_conflicts()
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
