"""Booking reads: free slots, tier windows, visits that no longer fit availability.

Slot reads load everything for a whole range and every matching surgeon and location in a
fixed number of queries (blocks, hours, closures, then time off with busy visits; on PostgreSQL
the four are precompiled once per process and sent in one round trip), then hand plain data to
the pure engine in `booking.availability`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone as django_timezone

from booking.availability import (
    BlockSpec,
    Calendar,
    ClosureSpec,
    HoursSpec,
    Slot,
    SlotRules,
    SurgeonInterval,
    conflict_reason,
    free_slots,
    local_instant,
    zone,
)
from booking.models import ACTIVE_STATUSES, Appointment, Patient, WaitlistEntry, WaitlistStatus
from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from locations.visits import CONFLICT_INACTIVE
from practice.models import AppointmentType, UrgencyTier

# A local day that [start, end) touches begins at most 25 hours before start and ends at most 25
# hours after end, in any zone. Until the blocks say which zones matter, dates are padded so.
_PAD = dt.timedelta(hours=26)
_TICK = dt.timedelta(microseconds=1)
# No visit holds a surgeon longer: AppointmentType allows 600 minutes and a 240-minute buffer.
LONGEST_VISIT = dt.timedelta(minutes=600 + 240)
# Earliest-slot searches widen step by step (days after the search start) up to a year.
EARLIEST_STEPS_DAYS = (4, 14, 42, 126, 366)


def _now(now: dt.datetime | None) -> dt.datetime:
    return django_timezone.now() if now is None else now


def slot_rules(*, appointment_type: AppointmentType, tier: UrgencyTier | None) -> SlotRules:
    return SlotRules(
        duration=dt.timedelta(minutes=appointment_type.duration_minutes),
        buffer=dt.timedelta(minutes=appointment_type.buffer_minutes),
        grid=dt.timedelta(minutes=settings.SLOT_GRID_MINUTES),
        min_notice=dt.timedelta(hours=appointment_type.min_notice_hours),
        tier_rank=None if tier is None else tier.rank,
    )


def _calendar(
    *,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Iterable[int] | None,
    location_ids: Iterable[int] | None,
    exclude_appointment_id: int | None = None,
) -> Calendar:
    """Everything the engine needs for [start, end) in four queries (one if there is no block):
    blocks with their zones and tiers, hours, closures, and time off with busy visits. On
    PostgreSQL the four go in one round trip (`_calendar_postgresql`)."""
    load = _calendar_postgresql if connection.vendor == "postgresql" else _calendar_orm
    return load(
        start=start,
        end=end,
        surgeon_ids=surgeon_ids,
        location_ids=location_ids,
        exclude_appointment_id=exclude_appointment_id,
    )


def _blocks_and_zones(rows: Sequence[Sequence[Any]]) -> tuple[list[BlockSpec], dict[int, str]]:
    """Block rows as both loaders select them (id, surgeon, location, weekday, start, end,
    valid_from, valid_until, tier code, tier rank, release hours, zone), and each location's zone."""
    blocks = [
        BlockSpec(
            id=row[0],
            surgeon_id=row[1],
            location_id=row[2],
            weekday=row[3],
            start=row[4],
            end=row[5],
            valid_from=row[6],
            valid_until=row[7],
            reserved_tier_code=row[8],
            reserved_tier_rank=row[9],
            release_hours_before=row[10],
        )
        for row in rows
    ]
    return blocks, {row[2]: row[11] for row in rows}


def _calendar_orm(
    *,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Iterable[int] | None,
    location_ids: Iterable[int] | None,
    exclude_appointment_id: int | None = None,
) -> Calendar:
    """The portable loader (the embedded SQLite default). tests/booking/test_calendar_loaders.py
    holds it to the same answers as `_calendar_postgresql`."""
    low, high = start - _PAD, end + _PAD
    first_day, last_day = low.date(), high.date()
    blocks_query = Block.objects.filter(
        surgeon__is_active=True,
        location__is_active=True,
        valid_from__lte=last_day,
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first_day))
    if surgeon_ids is not None:
        blocks_query = blocks_query.filter(surgeon_id__in=list(surgeon_ids))
    if location_ids is not None:
        blocks_query = blocks_query.filter(location_id__in=list(location_ids))
    rows = blocks_query.order_by().values_list(
        "id",
        "surgeon_id",
        "location_id",
        "weekday",
        "start",
        "end",
        "valid_from",
        "valid_until",
        "reserved_for_tier__code",
        "reserved_for_tier__rank",
        "release_hours_before",
        "location__timezone",
    )
    blocks, timezones = _blocks_and_zones(list(rows))
    if not blocks:
        return Calendar(timezones={}, blocks=[])
    # Now the zones are known, the local days [start, end) touches bound what else to load.
    zones = [zone(name) for name in set(timezones.values())]
    local_days = [(start.astimezone(tz).date(), (end - _TICK).astimezone(tz).date(), tz) for tz in zones]
    first_day = min(first for first, _, _ in local_days)
    last_day = max(last for _, last, _ in local_days)
    low = min(local_instant(first, dt.time(0), tz) for first, _, tz in local_days)
    high = max(local_instant(last + dt.timedelta(days=1), dt.time(0), tz) for _, last, tz in local_days)
    found_locations = list(timezones)
    found_surgeons = list({block.surgeon_id for block in blocks})
    hours = [
        HoursSpec(location_id=row[0], weekday=row[1], opens=row[2], closes=row[3])
        for row in OpeningHours.objects.filter(location_id__in=found_locations)
        .order_by()
        .values_list("location_id", "weekday", "opens", "closes")
    ]
    closures = [
        ClosureSpec(
            location_id=row[0], start_date=row[1], end_date=row[2], start_time=row[3], end_time=row[4]
        )
        for row in Closure.objects.filter(
            location_id__in=found_locations, start_date__lte=last_day, end_date__gte=first_day
        )
        .order_by()
        .values_list("location_id", "start_date", "end_date", "start_time", "end_time")
    ]
    time_off_query = TimeOff.objects.filter(surgeon_id__in=found_surgeons, start__lt=high, end__gt=low)
    # The lower bound on start lets the (surgeon, start) index skip a surgeon's whole history.
    busy_query = Appointment.objects.filter(
        surgeon_id__in=found_surgeons,
        status__in=ACTIVE_STATUSES,
        start__gte=low - LONGEST_VISIT,
        start__lt=high,
        busy_until__gt=low,
    )
    if exclude_appointment_id is not None:
        busy_query = busy_query.exclude(id=exclude_appointment_id)
    # Slots need only the union of time off and busy visits: one query for both.
    busy = _surgeon_intervals((time_off_query, "start", "end"), (busy_query, "start", "busy_until"))
    return Calendar(timezones=timezones, blocks=blocks, hours=hours, closures=closures, busy=busy)


@cache
def _calendar_sql(*, by_surgeon: bool, by_location: bool, excluding: bool) -> str:
    """The four loads as four statements sent together, built once per process from the models'
    tables (no value is ever formatted in: every value is a parameter). Hours, closures, time off
    and busy visits are read for the requested surgeons and locations or, where none were given,
    for those of the matching blocks."""
    block, surgeon, location = Block._meta.db_table, Surgeon._meta.db_table, Location._meta.db_table
    tier, hours, closure = UrgencyTier._meta.db_table, OpeningHours._meta.db_table, Closure._meta.db_table
    time_off, appointment = TimeOff._meta.db_table, Appointment._meta.db_table
    matching = (
        f"FROM {block} b JOIN {surgeon} s ON s.id = b.surgeon_id JOIN {location} l ON l.id = b.location_id"
        f" LEFT JOIN {tier} t ON t.id = b.reserved_for_tier_id"
        " WHERE s.is_active AND l.is_active AND b.valid_from <= %(last_day)s"
        " AND (b.valid_until IS NULL OR b.valid_until >= %(first_day)s)"
        + (" AND b.surgeon_id = ANY(%(surgeon_ids)s)" if by_surgeon else "")
        + (" AND b.location_id = ANY(%(location_ids)s)" if by_location else "")
    )
    # A single-surgeon check names its surgeon and location: no join to plan again. Otherwise
    # ARRAY(...) runs the block filter once, and the (surgeon, start) index is used as with a list.
    at_locations = (
        "location_id = ANY(%(location_ids)s)"
        if by_location
        else f"location_id = ANY(ARRAY(SELECT DISTINCT b.location_id {matching}))"
    )
    of_surgeons = (
        "surgeon_id = ANY(%(surgeon_ids)s)"
        if by_surgeon
        else f"surgeon_id = ANY(ARRAY(SELECT DISTINCT b.surgeon_id {matching}))"
    )
    # Only table names are formatted in (hence the S608 waivers); every value is a parameter.
    statements = [
        'SELECT b.id, b.surgeon_id, b.location_id, b.weekday, b.start, b."end", b.valid_from,'
        f" b.valid_until, t.code, t.rank, b.release_hours_before, l.timezone {matching}",
        f"SELECT location_id, weekday, opens, closes FROM {hours} WHERE {at_locations}",  # noqa: S608
        f"SELECT location_id, start_date, end_date, start_time, end_time FROM {closure} WHERE {at_locations}"  # noqa: S608
        " AND start_date <= %(last_day)s AND end_date >= %(first_day)s",
        # Time off and busy visits in one list; epoch seconds parse far faster than timestamps.
        'SELECT surgeon_id, EXTRACT(EPOCH FROM start)::float8, EXTRACT(EPOCH FROM "end")::float8'  # noqa: S608
        f' FROM {time_off} WHERE {of_surgeons} AND start < %(high)s AND "end" > %(low)s UNION ALL'
        " SELECT surgeon_id, EXTRACT(EPOCH FROM start)::float8, EXTRACT(EPOCH FROM busy_until)::float8"
        f" FROM {appointment} WHERE {of_surgeons} AND status = ANY(%(statuses)s)"
        " AND start >= %(busy_low)s AND start < %(high)s AND busy_until > %(low)s"
        + (" AND id <> %(exclude)s" if excluding else ""),
    ]
    return "; ".join(statements)


def _calendar_postgresql(
    *,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Iterable[int] | None,
    location_ids: Iterable[int] | None,
    exclude_appointment_id: int | None,
) -> Calendar:
    """`_calendar` in one round trip of four precompiled statements. The zones are not known
    before the blocks are read, so every load is bounded by the range padded to whole local days
    in any zone (a superset of what the engine reads)."""
    low, high = start - _PAD, end + _PAD
    sql = _calendar_sql(
        by_surgeon=surgeon_ids is not None,
        by_location=location_ids is not None,
        excluding=exclude_appointment_id is not None,
    )
    params = {
        "first_day": low.date(),
        "last_day": high.date(),
        "surgeon_ids": None if surgeon_ids is None else list(surgeon_ids),
        "location_ids": None if location_ids is None else list(location_ids),
        "low": low,
        "high": high,
        "busy_low": low - LONGEST_VISIT,
        "statuses": [str(status) for status in ACTIVE_STATUSES],
        "exclude": exclude_appointment_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        block_rows = cursor.fetchall()
        cursor.nextset()
        hours_rows = cursor.fetchall()
        cursor.nextset()
        closure_rows = cursor.fetchall()
        cursor.nextset()
        busy_rows = cursor.fetchall()
    if not block_rows:
        return Calendar(timezones={}, blocks=[])
    blocks, timezones = _blocks_and_zones(block_rows)
    from_epoch = dt.datetime.fromtimestamp
    return Calendar(
        timezones=timezones,
        blocks=blocks,
        hours=[HoursSpec(*row) for row in hours_rows],
        closures=[ClosureSpec(*row) for row in closure_rows],
        busy=[
            SurgeonInterval(row[0], from_epoch(row[1], dt.UTC), from_epoch(row[2], dt.UTC))
            for row in busy_rows
        ],
    )


def _surgeon_intervals(*queries: tuple[QuerySet[Any], str, str]) -> list[SurgeonInterval]:
    """(surgeon, start, end) rows of each (query, start field, end field), in one UNION ALL."""
    selects = [query.order_by().values_list("surgeon_id", start, end) for query, start, end in queries]
    rows = selects[0].union(*selects[1:], all=True) if len(selects) > 1 else selects[0]
    return [SurgeonInterval(surgeon_id=row[0], start=row[1], end=row[2]) for row in rows]


def slots_free(
    *,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    tier: UrgencyTier | None = None,
    surgeon_ids: Iterable[int] | None = None,
    location_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
    exclude_appointment_id: int | None = None,
    location_dates: tuple[dt.date, dt.date] | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Free slots starting in [start, end) for `tier` (None: the lowest rank), ordered by start;
    with `limit`, only the first ones.

    Four queries whatever the number of surgeons, locations or days. `exclude_appointment_id`
    treats that visit as gone (a reschedule may land on or beside the time it frees).
    `location_dates` keeps only slots on those local dates at their own location.
    """
    now = _now(now)
    calendar = _calendar(
        start=start,
        end=end,
        surgeon_ids=surgeon_ids,
        location_ids=location_ids,
        exclude_appointment_id=exclude_appointment_id,
    )
    rules = slot_rules(appointment_type=appointment_type, tier=tier)
    return free_slots(
        calendar, rules, start=start, end=end, now=now, location_dates=location_dates, limit=limit
    )


def slot_is_free(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    surgeon_id: int,
    location_id: int,
    start: dt.datetime,
    now: dt.datetime | None = None,
    exclude_appointment_id: int | None = None,
) -> bool:
    """Whether search would offer exactly this slot (same rules, same code path)."""
    slots = slots_free(
        appointment_type=appointment_type,
        tier=tier,
        start=start,
        end=start + dt.timedelta(microseconds=1),
        surgeon_ids=[surgeon_id],
        location_ids=[location_id],
        now=now,
        exclude_appointment_id=exclude_appointment_id,
    )
    return any(slot.start == start for slot in slots)


def slots_earliest(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    surgeon_ids: Iterable[int] | None = None,
    location_ids: Iterable[int] | None = None,
    after: dt.datetime | None = None,
    now: dt.datetime | None = None,
    limit: int = 5,
    horizon_days: int = EARLIEST_STEPS_DAYS[-1],
    exclude_appointment_id: int | None = None,
) -> list[Slot]:
    """The earliest `limit` free slots starting at or after `after` (default now), searching a
    widening range (a few fixed-size loads at most) up to `horizon_days` after it."""
    now = _now(now)
    begin = max(after or now, now)
    surgeons = None if surgeon_ids is None else list(surgeon_ids)
    locations = None if location_ids is None else list(location_ids)
    found: list[Slot] = []
    cursor = begin
    horizon = begin + dt.timedelta(days=horizon_days)
    steps = [begin + dt.timedelta(days=days) for days in EARLIEST_STEPS_DAYS if days < horizon_days]
    for step_end in [*steps, horizon]:
        if step_end <= cursor:
            continue
        found += slots_free(
            appointment_type=appointment_type,
            tier=tier,
            start=cursor,
            end=step_end,
            surgeon_ids=surgeons,
            location_ids=locations,
            now=now,
            exclude_appointment_id=exclude_appointment_id,
            limit=limit - len(found),
        )
        if len(found) >= limit:
            break
        cursor = step_end
    return found[:limit]


def slots_next(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    surgeon_id: int,
    location_id: int,
    after: dt.datetime,
    limit: int = 3,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """The next free slots for one surgeon at one location, starting at or after `after`."""
    return slots_earliest(
        appointment_type=appointment_type,
        tier=tier,
        surgeon_ids=[surgeon_id],
        location_ids=[location_id],
        after=after,
        now=now,
        limit=limit,
    )


def tier_window_end(*, tier: UrgencyTier, timezone: str, now: dt.datetime) -> dt.datetime:
    """The instant a tier's window closes: the end of the local day `max_wait_days` calendar days
    after `now` in `timezone` (that is, the next local midnight), in UTC. A slot is inside the
    window when it starts before this instant."""
    tz = zone(timezone)
    last_day = now.astimezone(tz).date() + dt.timedelta(days=tier.max_wait_days)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)


@dataclass(frozen=True)
class SlotsInWindow:
    """Earliest slots judged against a tier's window: `within[i]` for `slots[i]`, each by its own
    location's window; `window_ends` is the headline window's close, in its zone."""

    slots: list[Slot]
    within: list[bool]
    window_ends: dt.datetime


def slots_in_window(
    *, tier: UrgencyTier, slots: list[Slot], location: Location | None, now: dt.datetime
) -> SlotsInWindow:
    """Judge `slots` against `tier`'s window. The headline window is the searched location's,
    else the earliest slot's location's, else (no slot at all) the latest of the active
    locations'."""
    if location is not None:
        headline = location.timezone
    elif slots:
        headline = slots[0].timezone
    else:
        candidates = (
            Location.objects.filter(is_active=True).order_by().values_list("timezone", flat=True).distinct()
        )
        headline = max(
            set(candidates) or {"UTC"}, key=lambda name: tier_window_end(tier=tier, timezone=name, now=now)
        )
    ends = {
        location_id: tier_window_end(tier=tier, timezone=name, now=now)
        for location_id, name in {slot.location_id: slot.timezone for slot in slots}.items()
    }
    return SlotsInWindow(
        slots=slots,
        within=[slot.start < ends[slot.location_id] for slot in slots],
        window_ends=tier_window_end(tier=tier, timezone=headline, now=now).astimezone(zone(headline)),
    )


@dataclass(frozen=True)
class AppointmentConflict:
    """A future active visit that falls outside availability, and why (locations.visits.CONFLICT_*)."""

    appointment: Appointment
    reason: str


def appointment_conflicts(
    *, location_id: int | None = None, surgeon_id: int | None = None, now: dt.datetime | None = None
) -> list[AppointmentConflict]:
    """Future active visits that no longer fit: in a closure or the surgeon's time off, outside
    the location's hours or the surgeon's blocks there. Other visits, notice, the grid and tier
    reservations are ignored. The visit itself ([start, end)) must fit; its buffer need not.
    Six queries whatever the number of visits (the last loads the conflicting visits)."""
    now = _now(now)
    query = Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__gte=now)
    if location_id is not None:
        query = query.filter(location_id=location_id)
    if surgeon_id is not None:
        query = query.filter(surgeon_id=surgeon_id)
    # Plain rows, not models: a practice has tens of thousands of future visits and few conflicts,
    # whose models are loaded at the end.
    visits = list(
        query.order_by("start", "id").values_list(
            "id",
            "surgeon_id",
            "location_id",
            "start",
            "end",
            "surgeon__is_active",
            "location__is_active",
            "location__timezone",
        )
    )
    if not visits:
        return []
    surgeon_ids = {visit[1] for visit in visits}
    location_ids = {visit[2] for visit in visits}
    low = min(visit[3] for visit in visits) - _PAD
    high = max(visit[4] for visit in visits) + _PAD
    timezones = {visit[2]: visit[7] for visit in visits}
    blocks = [
        BlockSpec(
            surgeon_id=row[0],
            location_id=row[1],
            weekday=row[2],
            start=row[3],
            end=row[4],
            valid_from=row[5],
            valid_until=row[6],
        )
        for row in Block.objects.filter(surgeon_id__in=surgeon_ids, location_id__in=location_ids)
        .order_by()
        .values_list("surgeon_id", "location_id", "weekday", "start", "end", "valid_from", "valid_until")
    ]
    hours = [
        HoursSpec(location_id=row[0], weekday=row[1], opens=row[2], closes=row[3])
        for row in OpeningHours.objects.filter(location_id__in=location_ids)
        .order_by()
        .values_list("location_id", "weekday", "opens", "closes")
    ]
    closures = [
        ClosureSpec(
            location_id=row[0], start_date=row[1], end_date=row[2], start_time=row[3], end_time=row[4]
        )
        for row in Closure.objects.filter(
            location_id__in=location_ids, end_date__gte=low.date(), start_date__lte=high.date()
        )
        .order_by()
        .values_list("location_id", "start_date", "end_date", "start_time", "end_time")
    ]
    time_off = [
        SurgeonInterval(surgeon_id=row[0], start=row[1], end=row[2])
        for row in TimeOff.objects.filter(surgeon_id__in=surgeon_ids, end__gt=low, start__lt=high)
        .order_by()
        .values_list("surgeon_id", "start", "end")
    ]
    calendar = Calendar(timezones=timezones, blocks=blocks, hours=hours, closures=closures, time_off=time_off)
    reasons: dict[int, str] = {}
    for visit_id, visit_surgeon, visit_location, start, end, surgeon_active, location_active, _ in visits:
        # Deactivating is what a refused delete asks for: the visits left behind must show up.
        if not (surgeon_active and location_active):
            reasons[visit_id] = CONFLICT_INACTIVE
            continue
        reason = conflict_reason(
            calendar, surgeon_id=visit_surgeon, location_id=visit_location, start=start, end=end
        )
        if reason is not None:
            reasons[visit_id] = reason
    if not reasons:
        return []
    # A visit cancelled or deleted between the two reads has nothing left to conflict.
    appointments = Appointment.objects.filter(status__in=ACTIVE_STATUSES).in_bulk(list(reasons))
    # In the visits' order (start, id).
    return [
        AppointmentConflict(appointment=appointments[visit_id], reason=reason)
        for visit_id, reason in reasons.items()
        if visit_id in appointments
    ]


def future_appointments_exist(
    *, location_id: int | None = None, surgeon_id: int | None = None, now: dt.datetime | None = None
) -> bool:
    """Whether an active (booked, confirmed, ...) visit at the location, of the surgeon, has yet
    to end. Locations asks it (through `locations.visits`) before deleting either."""
    appointments = Appointment.objects.filter(status__in=ACTIVE_STATUSES, end__gt=_now(now))
    if location_id is not None:
        appointments = appointments.filter(location_id=location_id)
    if surgeon_id is not None:
        appointments = appointments.filter(surgeon_id=surgeon_id)
    return appointments.exists()


@dataclass(frozen=True)
class ThirdNextAvailable:
    """The third free slot from now for one surgeon or one location (None: fewer than three
    within the horizon), and how many local calendar days away it is."""

    slot: Slot | None
    days: int | None


# The third-next-available search looks this far ahead, widening in these steps (days).
ACCESS_STEPS_DAYS = (3, 14, 42, 120)


def third_next_available(
    *, appointment_type: AppointmentType, tier: UrgencyTier, now: dt.datetime | None = None
) -> tuple[dict[int, ThirdNextAvailable], dict[int, ThirdNextAvailable]]:
    """Third-next-available slot per surgeon and per location for `tier` (the standard access
    measure), for every active surgeon and location with a current block. A few fixed loads."""
    now = _now(now)
    today = now.date() - dt.timedelta(days=1)
    scheduled = (
        Block.objects.filter(surgeon__is_active=True, location__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by()
        .values_list("surgeon_id", "location_id")
        .distinct()
    )
    pairs = list(scheduled)
    by_surgeon: dict[int, list[Slot]] = {surgeon_id: [] for surgeon_id, _ in pairs}
    by_location: dict[int, list[Slot]] = {location_id: [] for _, location_id in pairs}
    cursor = now
    for days in ACCESS_STEPS_DAYS:
        step_end = now + dt.timedelta(days=days)
        for slot in slots_free(
            appointment_type=appointment_type, tier=tier, start=cursor, end=step_end, now=now
        ):
            for found in (
                by_surgeon.setdefault(slot.surgeon_id, []),
                by_location.setdefault(slot.location_id, []),
            ):
                if len(found) < 3:
                    found.append(slot)
        cursor = step_end
        if all(len(found) >= 3 for found in [*by_surgeon.values(), *by_location.values()]):
            break

    def third(found: list[Slot]) -> ThirdNextAvailable:
        if len(found) < 3:
            return ThirdNextAvailable(slot=None, days=None)
        slot = found[2]
        tz = zone(slot.timezone)
        return ThirdNextAvailable(
            slot=slot, days=(slot.start.astimezone(tz).date() - now.astimezone(tz).date()).days
        )

    return (
        {surgeon_id: third(found) for surgeon_id, found in by_surgeon.items()},
        {location_id: third(found) for location_id, found in by_location.items()},
    )


def bookings_by_window(
    *, start: dt.datetime, end: dt.datetime, location_dates: tuple[dt.date, dt.date] | None = None
) -> dict[int, tuple[int, int]]:
    """Per tier id, (inside, outside) its window: bookings made in [start, end) or, with
    `location_dates`, on those local dates at the visit's location. A rescheduled visit counts
    once, as its latest version. Counted in the database: two queries."""
    if location_dates is None:
        made = Q(booked_at__gte=start, booked_at__lt=end)
    else:
        first, last = location_dates
        made = Q(pk__in=[])
        for timezone in Location.objects.order_by().values_list("timezone", flat=True).distinct():
            tz = zone(timezone)
            made |= Q(
                location__timezone=timezone,
                booked_at__gte=dt.datetime.combine(first, dt.time(0), tzinfo=tz),
                booked_at__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=tz),
            )
    rows = (
        Appointment.objects.filter(made, rescheduled_to__isnull=True)
        .values("tier_id", "within_window")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts: dict[int, list[int]] = {}
    for row in rows:
        counts.setdefault(row["tier_id"], [0, 0])[0 if row["within_window"] else 1] += row["count"]
    return {tier_id: (inside, outside) for tier_id, (inside, outside) in counts.items()}


def waitlist_matches(*, appointment: Appointment) -> list[WaitlistEntry]:
    """Waiting entries the slot `appointment` held would suit, most urgent tier first, then oldest.

    Same visit type; the entry's surgeon and location, when given, match; the visit's local date
    (at its location) lies within the entry's dates; never the patient who gave the slot up.
    """
    day = appointment.start.astimezone(zone(appointment.location.timezone)).date()
    return list(
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING,
            appointment_type_id=appointment.appointment_type_id,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .filter(Q(surgeon__isnull=True) | Q(surgeon_id=appointment.surgeon_id))
        .filter(Q(location__isnull=True) | Q(location_id=appointment.location_id))
        .exclude(patient_id=appointment.patient_id)
        .select_related("patient", "tier")
        .order_by("-tier__rank", "created_at", "id")
    )


def appointments_with_details() -> QuerySet[Appointment]:
    """Appointments with what their API representation reads, in one query."""
    return Appointment.objects.select_related(
        "patient", "appointment_type", "tier", "booked_by", "rescheduled_to"
    )


_NON_DIGITS = re.compile(r"\D")
_PHONE_SHAPE = re.compile(r"^[\d\s()+.-]+$")
# Fewer digits than this would match half the practice by coincidence.
PATIENT_SEARCH_MIN_PHONE_DIGITS = 4


def patient_search(*, query: str, patients: QuerySet[Patient] | None = None) -> QuerySet[Patient]:
    """Patients whose record number, phone or name matches `query`.

    A record number matches exactly (any case); a phone by its trailing digits, so "555-0123",
    "(312) 555-0123" and "+1 312 555 0123" all find +13125550123; a name by every word starting
    the first or the last name ("jo smi" finds John Smith).
    """
    patients = Patient.objects.all() if patients is None else patients
    query = query.strip()
    if not query:
        return patients
    condition = Q(record_number__iexact=query)
    digits = _NON_DIGITS.sub("", query)
    if _PHONE_SHAPE.match(query):
        if len(digits) >= PATIENT_SEARCH_MIN_PHONE_DIGITS:
            condition |= Q(phone__endswith=digits)
    else:
        name = Q()
        for word in query.split():
            name &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        condition |= name
    return patients.filter(condition)


# The type the access measure is taken with unless the caller names one.
DEFAULT_ACCESS_TYPE = "new-consultation"


def access_type_default() -> AppointmentType | None:
    """DEFAULT_ACCESS_TYPE if active, else the first active type by name; None if none is."""
    active = AppointmentType.objects.filter(is_active=True)
    return active.filter(code=DEFAULT_ACCESS_TYPE).first() or active.order_by("name", "id").first()


@dataclass(frozen=True)
class TierAccess:
    """One tier's line of the access report: the third-next-available slot per active surgeon
    and location that has one scheduled (id, name, measure), and the period's bookings inside
    and outside the tier's window."""

    tier: UrgencyTier
    surgeons: list[tuple[int, str, ThirdNextAvailable]]
    locations: list[tuple[int, str, ThirdNextAvailable]]
    bookings_inside_window: int
    bookings_outside_window: int


def access_report(
    *,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    location_dates: tuple[dt.date, dt.date] | None = None,
    now: dt.datetime | None = None,
) -> list[TierAccess]:
    """Per tier, most urgent first: how long its patients wait now (third-next-available for
    `appointment_type`) and how often bookings in [start, end) (or, with `location_dates`, on
    those local dates) missed its window."""
    now = _now(now)
    bookings = bookings_by_window(start=start, end=end, location_dates=location_dates)
    surgeons = {surgeon.id: str(surgeon) for surgeon in Surgeon.objects.filter(is_active=True)}
    locations = dict(Location.objects.filter(is_active=True).values_list("id", "name"))
    report = []
    for tier in UrgencyTier.objects.order_by("-rank"):
        by_surgeon, by_location = third_next_available(appointment_type=appointment_type, tier=tier, now=now)
        inside, outside = bookings.get(tier.id, (0, 0))
        report.append(
            TierAccess(
                tier=tier,
                surgeons=[
                    (id_, name, by_surgeon[id_]) for id_, name in surgeons.items() if id_ in by_surgeon
                ],
                locations=[
                    (id_, name, by_location[id_]) for id_, name in locations.items() if id_ in by_location
                ],
                bookings_inside_window=inside,
                bookings_outside_window=outside,
            )
        )
    return report
