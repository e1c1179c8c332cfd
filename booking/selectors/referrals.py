"""The referral queue: open referrals by due date, their days left, and the earliest fitting slot
for each, found by one batched search for the whole page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone as django_timezone

from booking.availability import Slot, free_slots, zone
from booking.models import OPEN_REFERRAL_STATUSES, Referral
from booking.selectors.calendar import calendar_for_slots
from booking.selectors.slots import EARLIEST_STEPS_DAYS, slot_rules
from locations.models import Block


def referrals_with_details() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "patient", "tier", "appointment_type", "preferred_location", "changed_by"
    )


def referrals_open() -> QuerySet[Referral]:
    return referrals_with_details().filter(status__in=OPEN_REFERRAL_STATUSES).order_by("due_by", "id")


def referral_open_for_booking(*, patient_id: int, appointment_type_id: int, tier_id: int) -> Referral | None:
    """The referral a visit booked without naming one answers: the patient's only open referral
    of that type, if it is of that tier. None when there is none, or several (which one the visit
    answers is then a scheduler's call), or its tier differs (a re-triage first)."""
    found = list(
        Referral.objects.filter(
            patient_id=patient_id, appointment_type_id=appointment_type_id, status__in=OPEN_REFERRAL_STATUSES
        )[:2]
    )
    if len(found) != 1 or found[0].tier_id != tier_id:
        return None
    return found[0]


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
    (4, 14, 42 ... days) loads one calendar for the referrals still without a slot (every
    surgeon's, or only the named surgeons' and clinics' once every one left names some), and the
    engine runs once per distinct (type, tier) among them. A surgeon and clinic with no block
    together are never searched.

    Measured on bench/slots.py's scenario B (500 referrals, 60 surgeons, 10 clinics): searching
    every step with every surgeon's calendar took 2.2 s, as 14 impossible surgeon-and-clinic
    pairs drove the search to a year; with them skipped, 17 ms, and the whole page over HTTP
    205 ms median (81 ms of CPU) at load 3-4."""
    now = now or django_timezone.now()
    found: dict[int, Slot | None] = {referral.pk: None for referral in referrals}
    scheduled = _scheduled_pairs(now=now)
    surgeons_scheduled = {surgeon_id for surgeon_id, _ in scheduled}
    locations_scheduled = {location_id for _, location_id in scheduled}
    pending = [
        referral
        for referral in referrals
        if _may_fit(referral, scheduled, surgeons_scheduled, locations_scheduled)
    ]
    cursor = now
    for days in EARLIEST_STEPS_DAYS:
        if not pending:
            break
        step_end = now + dt.timedelta(days=days)
        surgeon_ids, location_ids = _narrowest(pending)
        calendar = calendar_for_slots(
            start=cursor, end=step_end, surgeon_ids=surgeon_ids, location_ids=location_ids
        )
        groups: dict[tuple[int, int], list[Referral]] = {}
        for referral in pending:
            groups.setdefault((referral.appointment_type_id, referral.tier_id), []).append(referral)
        still: list[Referral] = []
        for group in groups.values():
            first = group[0]
            rules = slot_rules(appointment_type=first.appointment_type, tier=first.tier)
            wanted = {(referral.preferred_surgeon_id, referral.preferred_location_id) for referral in group}
            slots = free_slots(
                calendar,
                rules,
                start=cursor,
                end=step_end,
                now=now,
                limit=1 if wanted == {(None, None)} else None,
            )
            earliest: dict[tuple[Any, Any], Slot] = {}
            for slot in slots:  # ordered by start: the first seen for a key is its earliest
                for key in (
                    (None, None),
                    (slot.surgeon_id, None),
                    (None, slot.location_id),
                    (slot.surgeon_id, slot.location_id),
                ):
                    if key in wanted and key not in earliest:
                        earliest[key] = slot
                if len(earliest) == len(wanted):
                    break
            for referral in group:
                match = earliest.get((referral.preferred_surgeon_id, referral.preferred_location_id))
                if match is None:
                    still.append(referral)
                else:
                    found[referral.pk] = match
        pending = still
        cursor = step_end
    return found


def _scheduled_pairs(*, now: dt.datetime) -> set[tuple[int, int]]:
    """(surgeon, location) of every block of an active surgeon at an active location that has
    not ended: where a slot can be at all."""
    return set(
        Block.objects.filter(surgeon__is_active=True, location__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=now.date() - dt.timedelta(days=1)))
        .order_by()
        .values_list("surgeon_id", "location_id")
        .distinct()
    )


def _may_fit(
    referral: Referral, scheduled: set[tuple[int, int]], surgeons: set[int], locations: set[int]
) -> bool:
    surgeon_id, location_id = referral.preferred_surgeon_id, referral.preferred_location_id
    if surgeon_id is not None and location_id is not None:
        return (surgeon_id, location_id) in scheduled
    if surgeon_id is not None:
        return surgeon_id in surgeons
    if location_id is not None:
        return location_id in locations
    return bool(scheduled)


def _narrowest(pending: Sequence[Referral]) -> tuple[list[int] | None, list[int] | None]:
    """The surgeons and locations a calendar for `pending` must hold: all (None) unless every
    referral names a surgeon (then theirs), or every one names a clinic (then those)."""
    surgeons = {referral.preferred_surgeon_id for referral in pending}
    if None not in surgeons:
        return [surgeon_id for surgeon_id in surgeons if surgeon_id is not None], None
    locations = {referral.preferred_location_id for referral in pending}
    if None not in locations:
        return None, [location_id for location_id in locations if location_id is not None]
    return None, None
