"""The referral queue: open referrals by due date, their days left, and the earliest fitting slot
for each, found by one batched search for the whole page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone as django_timezone

from booking.availability import Slot, free_slots, zone
from booking.models import OPEN_REFERRAL_STATUSES, Referral
from booking.selectors.calendar import calendar_for_slots
from booking.selectors.slots import EARLIEST_STEPS_DAYS, slot_rules


def referrals_with_details() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "patient", "tier", "appointment_type", "preferred_location", "changed_by"
    )


def referrals_open() -> QuerySet[Referral]:
    return referrals_with_details().filter(status__in=OPEN_REFERRAL_STATUSES).order_by("due_by", "id")


def referral_days_left(referral: Referral, *, now: dt.datetime) -> int:
    """Whole local days until the referral's last day in its window: 0 on that day, negative once
    it has passed. Counted in the preferred clinic's zone, else the practice's."""
    name = (
        referral.preferred_location.timezone
        if referral.preferred_location is not None
        else settings.SMS_DEFAULT_TIMEZONE
    )
    tz = zone(name)
    last_day = (referral.due_by - dt.timedelta(microseconds=1)).astimezone(tz).date()
    return (last_day - now.astimezone(tz).date()).days


def referrals_earliest_slots(
    *, referrals: Sequence[Referral], now: dt.datetime | None = None
) -> dict[int, Slot | None]:
    """The earliest free slot fitting each referral (its type and tier, at its preferred clinic
    and with its preferred surgeon when it names them), by referral id.

    One batched search for the page, not one per referral: each widening step of the search
    (4, 14, 42 ... days) loads the calendar of every surgeon once, and the engine runs once per
    distinct (type, tier) among the referrals still without a slot; each run's slots are indexed
    by surgeon and clinic in one pass."""
    now = now or django_timezone.now()
    found: dict[int, Slot | None] = {referral.pk: None for referral in referrals}
    pending = list(referrals)
    cursor = now
    for days in EARLIEST_STEPS_DAYS:
        if not pending:
            break
        step_end = now + dt.timedelta(days=days)
        calendar = calendar_for_slots(start=cursor, end=step_end, surgeon_ids=None, location_ids=None)
        groups: dict[tuple[int, int], list[Referral]] = {}
        for referral in pending:
            groups.setdefault((referral.appointment_type_id, referral.tier_id), []).append(referral)
        still: list[Referral] = []
        for group in groups.values():
            first = group[0]
            rules = slot_rules(appointment_type=first.appointment_type, tier=first.tier)
            wants_any_only = all(
                referral.preferred_location_id is None and referral.preferred_surgeon_id is None
                for referral in group
            )
            slots = free_slots(
                calendar, rules, start=cursor, end=step_end, now=now, limit=1 if wants_any_only else None
            )
            earliest: dict[tuple[Any, Any], Slot] = {}
            for slot in slots:  # ordered by start: the first seen for a key is its earliest
                for key in (
                    (None, None),
                    (slot.surgeon_id, None),
                    (None, slot.location_id),
                    (slot.surgeon_id, slot.location_id),
                ):
                    if key not in earliest:
                        earliest[key] = slot
            for referral in group:
                match = earliest.get((referral.preferred_surgeon_id, referral.preferred_location_id))
                if match is None:
                    still.append(referral)
                else:
                    found[referral.pk] = match
        pending = still
        cursor = step_end
    return found
