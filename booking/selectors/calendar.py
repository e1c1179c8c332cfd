"""The calendar loader: blocks, hours, closures, time off and busy visits for a range and a set
of surgeons and locations, as the plain data `booking.availability` computes with.

Slot search and booking's slot check (`calendar_for_slots`) and the conflict check
(`calendar_for_conflicts`) read availability through the same queries, in a fixed number of them
whatever the number of surgeons, locations, days or visits. On PostgreSQL the slot loads are
precompiled once per process and sent in one round trip (`_calendar_postgresql`); the portable
ORM loader reads the same rows, and conflicts use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from functools import cache, lru_cache
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from booking.availability import (
    BlockSpec,
    Calendar,
    ClosureSpec,
    EpochIntervals,
    HoursSpec,
    SurgeonInterval,
)
from booking.models import ACTIVE_STATUSES, Appointment, Hold
from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from practice.db import execute_prepared, numbered
from practice.models import UrgencyTier

# A local day that [start, end) touches begins at most 25 hours before start and ends at most 25
# hours after end, in any zone. The zones are not known before the blocks are read, so every load
# is padded so.
_PAD = dt.timedelta(hours=26)
# No visit holds a surgeon longer: AppointmentType allows 600 minutes and a 240-minute buffer.
LONGEST_VISIT = dt.timedelta(minutes=600 + 240)
# Busy visits and holds are read for [start, end + LONGEST_VISIT) only, not for the padded days:
# a slot starts in [start, end) and lasts at most that long, and time taken before a slot's
# earliest start changes no slot the engine offers.


def calendar_for_slots(
    *,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Iterable[int] | None,
    location_ids: Iterable[int] | None,
    exclude_appointment_id: int | None = None,
    now: dt.datetime | None = None,
) -> Calendar:
    """Everything the engine needs for [start, end) in four queries (one if there is no block):
    blocks with their zones and tiers, hours, closures, and time off with busy visits and the
    holds unexpired at `now` (default: the clock). On PostgreSQL the four go in one round trip
    (`_calendar_postgresql`)."""
    load = _calendar_postgresql if connection.vendor == "postgresql" else _calendar_orm
    return load(
        start=start,
        end=end,
        surgeon_ids=surgeon_ids,
        location_ids=location_ids,
        exclude_appointment_id=exclude_appointment_id,
        now=timezone.now() if now is None else now,
    )


def calendar_for_conflicts(
    *,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Collection[int],
    location_ids: Collection[int],
    timezones: dict[int, str],
) -> Calendar:
    """What a conflict check reads for visits in [start, end) of these surgeons at these
    locations, in four queries (one round trip on PostgreSQL): the blocks, hours, closures and
    time off slot search reads, with
    time off kept apart (a visit in it has its own reason) and no busy visits (other visits are
    no conflict). `timezones` are the visits' locations': a location where no block is left must
    still be checked for closures, time off and hours before a visit there is outside blocks.

    On PostgreSQL in one round trip of prepared statements, as slot search reads them."""
    low, high = start - _PAD, end + _PAD
    if connection.vendor == "postgresql":
        params = {
            "first_day": low.date(),
            "last_day": high.date(),
            "surgeon_ids": list(surgeon_ids),
            "location_ids": list(location_ids),
            "low": low,
            "high": high,
            "busy_low": None,
            "busy_start": None,
            "busy_high": None,
            "statuses": None,
            "exclude": None,
            "now": None,
        }
        with connection.cursor() as cursor:
            execute_prepared(cursor, _conflict_statements(), _PARAMETERS, params)
            block_rows = cursor.fetchall()
            cursor.nextset()
            hours_rows = cursor.fetchall()
            cursor.nextset()
            closure_rows = cursor.fetchall()
            cursor.nextset()
            time_off_rows = cursor.fetchall()
        from_epoch = dt.datetime.fromtimestamp
        return Calendar(
            timezones=timezones,
            blocks=_blocks_and_zones(block_rows)[0],
            hours=[HoursSpec(*row) for row in hours_rows],
            closures=[ClosureSpec(*row) for row in closure_rows],
            time_off=[
                SurgeonInterval(row[0], from_epoch(row[1], dt.UTC), from_epoch(row[2], dt.UTC))
                for row in time_off_rows
            ],
        )
    blocks, _ = _blocks(low=low, high=high, surgeon_ids=surgeon_ids, location_ids=location_ids)
    return Calendar(
        timezones=timezones,
        blocks=blocks,
        hours=_hours(location_ids=location_ids),
        closures=_closures(location_ids=location_ids, low=low, high=high),
        time_off=_surgeon_intervals((_time_off(surgeon_ids=surgeon_ids, low=low, high=high), "start", "end")),
    )


@cache
def _conflict_statements() -> tuple[str, ...]:
    """A conflict check's loads: slot search's blocks, hours and closures for named surgeons and
    locations, and time off alone (no busy visits)."""
    blocks, hours, closures, time_off_and_busy = _calendar_statements(
        by_surgeon=True, by_location=True, excluding=False
    )
    union = time_off_and_busy.removeprefix(_BUSY_BY_SURGEON)
    return blocks, hours, closures, union[: union.index(" UNION ALL")]


def _calendar_postgresql(
    *,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Iterable[int] | None,
    location_ids: Iterable[int] | None,
    exclude_appointment_id: int | None,
    now: dt.datetime | None = None,
) -> Calendar:
    """`calendar_for_slots` in one round trip of four precompiled statements, prepared on the
    server once per connection (`practice.db.execute_prepared`). The zones are not known before
    the blocks are read, so blocks, closures and time off are bounded by the range padded to whole
    local days in any zone (a superset of what the engine reads); busy visits and holds by the
    range and the longest visit after it. Busy time stays epoch seconds until the engine reads a
    surgeon's (`EpochIntervals`).

    Measured on bench/slots.py's large practice against `_calendar_orm`: booking's one-slot check
    takes 1 ms instead of 4-5 ms (0.4 ms of CPU instead of 3-4), 14 days of slots for every
    surgeon 40 ms instead of 60-80 ms: no ORM query building, one round trip instead of four, and
    epoch seconds to parse instead of timestamps."""
    low, high = start - _PAD, end + _PAD
    statements = _calendar_statements(
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
        "busy_low": start - LONGEST_VISIT,
        "busy_start": start,
        "busy_high": end + LONGEST_VISIT,
        "statuses": [str(status) for status in ACTIVE_STATUSES],
        "exclude": exclude_appointment_id,
        "now": timezone.now() if now is None else now,
    }
    with connection.cursor() as cursor:
        execute_prepared(cursor, statements, _PARAMETERS, params)
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
    return Calendar(
        timezones=timezones,
        blocks=blocks,
        hours=[HoursSpec(*row) for row in hours_rows],
        closures=[ClosureSpec(*row) for row in closure_rows],
        busy=EpochIntervals(busy_rows),
    )


# The statements' parameters, in the order PREPARE declares them ($1, $2, ...).
_PARAMETERS = (
    ("first_day", "date"),
    ("last_day", "date"),
    ("surgeon_ids", "bigint[]"),
    ("location_ids", "bigint[]"),
    ("low", "timestamptz"),
    ("high", "timestamptz"),
    ("busy_low", "timestamptz"),
    ("busy_start", "timestamptz"),
    ("busy_high", "timestamptz"),
    ("statuses", "text[]"),
    ("exclude", "bigint"),
    ("now", "timestamptz"),
)


_BUSY_BY_SURGEON = "SELECT surgeon_id, array_agg(start), array_agg(until) FROM ("


@cache
def _calendar_statements(*, by_surgeon: bool, by_location: bool, excluding: bool) -> tuple[str, ...]:
    """The four loads as four statements, built once per process from the models' tables (no value
    is ever formatted in: every value is a parameter, $1... in `_PARAMETERS`' order). Hours,
    closures, time off and busy visits are read for the requested surgeons and locations or, where
    none were given, for those of the matching blocks."""
    block, surgeon, location = Block._meta.db_table, Surgeon._meta.db_table, Location._meta.db_table
    tier, hours, closure = UrgencyTier._meta.db_table, OpeningHours._meta.db_table, Closure._meta.db_table
    time_off, appointment, hold = TimeOff._meta.db_table, Appointment._meta.db_table, Hold._meta.db_table
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
    # A search of everyone reads every surgeon's visits and holds in the range: matching each row
    # against a list of hundreds of surgeons cost more than the rows of those without a block
    # (whom the engine never reads).
    busy_of_surgeons = of_surgeons if by_surgeon or by_location else "TRUE"
    # Only table names are formatted in (hence the S608 waivers); every value is a parameter.
    statements = [
        'SELECT b.id, b.surgeon_id, b.location_id, b.weekday, b.start, b."end", b.valid_from,'
        f" b.valid_until, t.code, t.rank, b.release_hours_before, l.timezone {matching}",
        f"SELECT location_id, weekday, opens, closes FROM {hours} WHERE {at_locations}",  # noqa: S608
        f"SELECT location_id, start_date, end_date, start_time, end_time FROM {closure} WHERE {at_locations}"  # noqa: S608
        " AND start_date <= %(last_day)s AND end_date >= %(first_day)s",
        # Time off, busy visits and unexpired holds in one list, as each surgeon's array of starts
        # and of ends: epoch seconds parse far faster than timestamps, and 500 rows of arrays
        # leave far less for the garbage collector to walk than tens of thousands of rows.
        _BUSY_BY_SURGEON  # noqa: S608
        + 'SELECT surgeon_id, EXTRACT(EPOCH FROM start)::float8, EXTRACT(EPOCH FROM "end")::float8'  # noqa: S608
        f' FROM {time_off} WHERE {of_surgeons} AND start < %(high)s AND "end" > %(low)s UNION ALL'
        " SELECT surgeon_id, EXTRACT(EPOCH FROM start)::float8, EXTRACT(EPOCH FROM busy_until)::float8"
        f" FROM {appointment} WHERE {busy_of_surgeons} AND status = ANY(%(statuses)s)"
        " AND start >= %(busy_low)s AND start < %(busy_high)s AND busy_until > %(busy_start)s"
        + (" AND id <> %(exclude)s" if excluding else "")
        + " UNION ALL SELECT surgeon_id, EXTRACT(EPOCH FROM start)::float8,"  # noqa: S608
        f" EXTRACT(EPOCH FROM busy_until)::float8 FROM {hold} WHERE {busy_of_surgeons}"
        " AND expires_at > %(now)s AND start >= %(busy_low)s AND start < %(busy_high)s"
        " AND busy_until > %(busy_start)s) AS busy (surgeon_id, start, until) GROUP BY surgeon_id",
    ]
    return tuple(numbered(text, _PARAMETERS) for text in statements)


def _calendar_orm(
    *,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Iterable[int] | None,
    location_ids: Iterable[int] | None,
    exclude_appointment_id: int | None = None,
    now: dt.datetime | None = None,
) -> Calendar:
    """The portable loader (the embedded SQLite default): `_calendar_postgresql`'s four loads with
    its bounds, so that both return the same calendar (tests/booking/test_calendar_loaders.py)."""
    low, high = start - _PAD, end + _PAD
    surgeons = None if surgeon_ids is None else list(surgeon_ids)
    locations = None if location_ids is None else list(location_ids)
    blocks, timezones = _blocks(low=low, high=high, surgeon_ids=surgeons, location_ids=locations)
    if not blocks:
        return Calendar(timezones={}, blocks=[])
    # The requested surgeons and locations or, where none were given, those of the blocks.
    if surgeons is None:
        surgeons = list({block.surgeon_id for block in blocks})
    if locations is None:
        locations = list(timezones)
    # As `_calendar_statements`: a search of everyone reads everyone's visits and holds.
    busy_surgeons = None if surgeon_ids is None and location_ids is None else surgeons
    busy_query = _busy_visits(
        surgeon_ids=busy_surgeons,
        low=start,
        high=end + LONGEST_VISIT,
        exclude_appointment_id=exclude_appointment_id,
    )
    return Calendar(
        timezones=timezones,
        blocks=blocks,
        hours=_hours(location_ids=locations),
        closures=_closures(location_ids=locations, low=low, high=high),
        # Slots need only the union of time off, busy visits and holds: one query for all.
        busy=_surgeon_intervals(
            (_time_off(surgeon_ids=surgeons, low=low, high=high), "start", "end"),
            (busy_query, "start", "busy_until"),
            (
                _holds(surgeon_ids=busy_surgeons, low=start, high=end + LONGEST_VISIT, now=now),
                "start",
                "busy_until",
            ),
        ),
    )


def _blocks(
    *,
    low: dt.datetime,
    high: dt.datetime,
    surgeon_ids: Collection[int] | None,
    location_ids: Collection[int] | None,
) -> tuple[list[BlockSpec], dict[int, str]]:
    """Active surgeons' blocks at active locations valid on some day of [low, high], with their
    locations' zones."""
    query = Block.objects.filter(
        surgeon__is_active=True,
        location__is_active=True,
        valid_from__lte=high.date(),
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=low.date()))
    if surgeon_ids is not None:
        query = query.filter(surgeon_id__in=surgeon_ids)
    if location_ids is not None:
        query = query.filter(location_id__in=location_ids)
    rows = query.order_by().values_list(
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
    return _blocks_and_zones(list(rows))


def _blocks_and_zones(rows: Sequence[Sequence[Any]]) -> tuple[list[BlockSpec], dict[int, str]]:
    """Block rows as both loaders select them (id, surgeon, location, weekday, start, end,
    valid_from, valid_until, tier code, tier rank, release hours, zone), and each location's zone."""
    blocks = [_block_spec(tuple(row[:11])) for row in rows]
    return blocks, {row[2]: row[11] for row in rows}


@lru_cache(maxsize=32768)
def _block_spec(row: tuple[Any, ...]) -> BlockSpec:
    """The BlockSpec of a block row, the same object while the row is unchanged: a large search
    reads thousands of blocks, and specs kept across searches are neither rebuilt nor left for
    the garbage collector to walk (its full passes were most of a 500-surgeon search's p95).
    Safe to share: a BlockSpec is frozen."""
    return BlockSpec(
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


def _hours(*, location_ids: Collection[int]) -> list[HoursSpec]:
    return [
        HoursSpec(location_id=row[0], weekday=row[1], opens=row[2], closes=row[3])
        for row in OpeningHours.objects.filter(location_id__in=location_ids)
        .order_by()
        .values_list("location_id", "weekday", "opens", "closes")
    ]


def _closures(*, location_ids: Collection[int], low: dt.datetime, high: dt.datetime) -> list[ClosureSpec]:
    return [
        ClosureSpec(
            location_id=row[0], start_date=row[1], end_date=row[2], start_time=row[3], end_time=row[4]
        )
        for row in Closure.objects.filter(
            location_id__in=location_ids, start_date__lte=high.date(), end_date__gte=low.date()
        )
        .order_by()
        .values_list("location_id", "start_date", "end_date", "start_time", "end_time")
    ]


def _time_off(*, surgeon_ids: Collection[int], low: dt.datetime, high: dt.datetime) -> QuerySet[TimeOff]:
    return TimeOff.objects.filter(surgeon_id__in=surgeon_ids, start__lt=high, end__gt=low)


def _busy_visits(
    *,
    surgeon_ids: Collection[int] | None,
    low: dt.datetime,
    high: dt.datetime,
    exclude_appointment_id: int | None,
) -> QuerySet[Appointment]:
    # The lower bound on start lets the (surgeon, start) index skip a surgeon's whole history.
    query = Appointment.objects.filter(
        status__in=ACTIVE_STATUSES,
        start__gte=low - LONGEST_VISIT,
        start__lt=high,
        busy_until__gt=low,
    )
    if surgeon_ids is not None:
        query = query.filter(surgeon_id__in=surgeon_ids)
    if exclude_appointment_id is not None:
        query = query.exclude(id=exclude_appointment_id)
    return query


def _holds(
    *, surgeon_ids: Collection[int] | None, low: dt.datetime, high: dt.datetime, now: dt.datetime | None
) -> QuerySet[Hold]:
    query = Hold.objects.filter(
        expires_at__gt=timezone.now() if now is None else now,
        start__gte=low - LONGEST_VISIT,
        start__lt=high,
        busy_until__gt=low,
    )
    return query if surgeon_ids is None else query.filter(surgeon_id__in=surgeon_ids)


def _surgeon_intervals(*queries: tuple[QuerySet[Any], str, str]) -> list[SurgeonInterval]:
    """(surgeon, start, end) rows of each (query, start field, end field), in one UNION ALL."""
    selects = [query.order_by().values_list("surgeon_id", start, end) for query, start, end in queries]
    rows = selects[0].union(*selects[1:], all=True) if len(selects) > 1 else selects[0]
    return [SurgeonInterval(surgeon_id=row[0], start=row[1], end=row[2]) for row in rows]
