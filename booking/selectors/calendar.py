"""The calendar loader: what the slot engine reads (blocks, hours, closures, time off, busy visits)
for a range and a set of surgeons and locations, as plain data for `booking.availability`.

Slot reads load everything for a whole range and every matching surgeon and location in a fixed
number of queries (blocks, hours, closures, then time off with busy visits; on PostgreSQL the four
are precompiled once per process and sent in one round trip).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from booking.availability import (
    BlockSpec,
    Calendar,
    ClosureSpec,
    HoursSpec,
    SurgeonInterval,
    local_instant,
    zone,
)
from booking.models import ACTIVE_STATUSES, Appointment
from locations.models import Block, Closure, Location, OpeningHours, TimeOff
from practice.models import Surgeon, UrgencyTier

# A local day that [start, end) touches begins at most 25 hours before start and ends at most 25
# hours after end, in any zone. Until the blocks say which zones matter, dates are padded so.
PAD = dt.timedelta(hours=26)
_TICK = dt.timedelta(microseconds=1)
# No visit holds a surgeon longer: AppointmentType allows 600 minutes and a 240-minute buffer.
LONGEST_VISIT = dt.timedelta(minutes=600 + 240)


def calendar_for_slots(
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
    low, high = start - PAD, end + PAD
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
    """`calendar_for_slots` in one round trip of four precompiled statements. The zones are not
    known before the blocks are read, so every load is bounded by the range padded to whole local
    days in any zone (a superset of what the engine reads)."""
    low, high = start - PAD, end + PAD
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
