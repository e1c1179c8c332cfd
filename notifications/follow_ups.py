"""Reminders to book a post-operative follow-up: a text for each open window with no visit."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from booking.models import FollowUpWindow
from notifications import content
from notifications.models import Message, MessageKind
from notifications.outbox import due_now, message_create, zone_of


def follow_ups_scan() -> list[int]:
    """Beat, hourly: a text for each open window with no visit booked, at most once a week and
    up to the limit. Rows in the database, never Celery countdowns: they run two years out.
    Returns the ids of the texts due now."""
    now = timezone.now()
    every = dt.timedelta(days=settings.FOLLOW_UP_REMINDER_EVERY_DAYS)
    # The widest "today" on Earth; each window is then checked in the patient's own zone.
    candidates = (
        FollowUpWindow.objects.filter(
            appointment__isnull=True,
            opens_on__lte=now.date() + dt.timedelta(days=1),
            closes_on__gte=now.date() - dt.timedelta(days=1),
            reminders_sent__lt=settings.FOLLOW_UP_REMINDER_LIMIT,
            surgery__patient__sms_opted_out_at__isnull=True,
        )
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - every))
        .select_related("surgery__patient__preferred_location")
    )
    created: list[Message | None] = []
    for window in candidates[:5000]:
        patient = window.surgery.patient
        zone = zone_of(patient=patient)
        today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        if not window.opens_on <= today <= window.closes_on:
            continue
        with transaction.atomic():
            claimed = (
                FollowUpWindow.objects.filter(pk=window.pk, reminders_sent=window.reminders_sent)
                .filter(appointment__isnull=True)
                .update(reminders_sent=F("reminders_sent") + 1, last_reminded_at=now)
            )
            if claimed != 1:
                continue
            created.append(
                message_create(
                    patient=patient,
                    follow_up=window,
                    kind=MessageKind.FOLLOW_UP,
                    dedupe_key=f"follow_up:{window.pk}:{window.reminders_sent + 1}",
                    body=content.follow_up_due(language=patient.language),
                    due_at=now,
                    zone=zone,
                )
            )
    return due_now(created, now)
