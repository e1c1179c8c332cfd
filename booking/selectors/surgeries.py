"""Surgeries and their follow-up windows, each with its state on the practice's calendar."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, CharField, Prefetch, QuerySet, Value, When

from booking.models import FollowUpWindow, Surgery
from practice.clock import practice_today


class FollowUpState:
    UPCOMING = "upcoming"
    OPEN = "open"
    BOOKED = "booked"
    OVERDUE = "overdue"
    ALL = (UPCOMING, OPEN, BOOKED, OVERDUE)


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
