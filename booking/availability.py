"""The slot engine: a pure function from plain data (blocks, hours, closures, time off, busy
intervals) to free slots. No ORM here; `booking.selectors` loads the data and calls it.

Everything is computed in each location's own zone and returned as UTC instants. A block's
local start and end become instants once per day (so a block at 08:00 starts at 08:00 local on
both sides of a DST change), and the grid then steps in absolute time from the block's start, so
a day that skips or repeats an hour has neither duplicated nor missing slots.

Availability is interval arithmetic: for each block-day, the block intersected with opening
hours, less part-day closures, less the union of time off and busy intervals; grid starts are
then read off the free intervals. The cost grows with block-days and busy intervals, never with
slot positions times appointments.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import itertools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

# Why a visit no longer fits is locations' vocabulary: its writes answer with these reasons.
from locations.visits import (
    CONFLICT_CLOSURE,
    CONFLICT_OUTSIDE_BLOCKS,
    CONFLICT_OUTSIDE_HOURS,
    CONFLICT_TIME_OFF,
)

UTC = dt.UTC

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True, slots=True)
class BlockSpec:
    """A surgeon's weekly block at a location, in the location's wall-clock time."""

    surgeon_id: int
    location_id: int
    weekday: int
    start: dt.time
    end: dt.time
    valid_from: dt.date
    valid_until: dt.date | None = None
    reserved_tier_code: str | None = None
    reserved_tier_rank: int | None = None
    release_hours_before: int = 48
    id: int = 0

    def applies_on(self, day: dt.date) -> bool:
        return (
            day.weekday() == self.weekday
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True, slots=True)
class HoursSpec:
    location_id: int
    weekday: int
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True, slots=True)
class ClosureSpec:
    """Whole days (no times) or the same part of each day (start_time..end_time, local)."""

    location_id: int
    start_date: dt.date
    end_date: dt.date
    start_time: dt.time | None = None
    end_time: dt.time | None = None

    @property
    def whole_day(self) -> bool:
        return self.start_time is None or self.end_time is None


class SurgeonInterval(NamedTuple):
    """Time a surgeon cannot be booked: time off, or an active appointment up to busy_until."""

    surgeon_id: int
    start: dt.datetime
    end: dt.datetime


class Slot(NamedTuple):
    """A free slot: [start, end) for one surgeon at one location, UTC instants.

    `reserved_for_tier` is the tier code the slot is still held for, or None once released (or
    never reserved). `timezone` is the location's zone, for rendering local times. (A NamedTuple:
    searches build thousands of these.)
    """

    surgeon_id: int
    location_id: int
    start: dt.datetime
    end: dt.datetime
    reserved_for_tier: str | None = None
    timezone: str = "UTC"

    @property
    def local_start(self) -> dt.datetime:
        return self.start.astimezone(zone(self.timezone))

    @property
    def local_end(self) -> dt.datetime:
        return self.end.astimezone(zone(self.timezone))


@dataclass(frozen=True, slots=True)
class SlotRules:
    """What an appointment type and a request need from a slot."""

    duration: dt.timedelta
    buffer: dt.timedelta
    grid: dt.timedelta
    min_notice: dt.timedelta
    # The requesting tier's rank; None is the lowest rank (a request without a tier).
    tier_rank: int | None = None

    @property
    def needed(self) -> dt.timedelta:
        return self.duration + self.buffer


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_instant(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time. In a spring-forward gap the offset before the
    change applies (02:30 becomes 03:30); in a repeated hour, the first occurrence (fold=0)."""
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(UTC)


def local_dates(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> Iterator[dt.date]:
    """Each local date that [start, end) touches in `tz`."""
    day = start.astimezone(tz).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint union of half-open intervals (touching ones join)."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect(left: Sequence[Interval], right: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted, disjoint interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(
    base: Sequence[Interval], holes: Sequence[Interval], hole_ends: Sequence[dt.datetime]
) -> list[Interval]:
    """`base` minus `holes`; both sorted and disjoint, `hole_ends` the holes' ends (for bisect)."""
    if not holes or not base:
        return list(base)
    result: list[Interval] = []
    for start, end in base:
        index = bisect.bisect_right(hole_ends, start)
        cursor = start
        while index < len(holes) and holes[index][0] < end:
            hole_start, hole_end = holes[index]
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            index += 1
        if cursor < end:
            result.append((cursor, end))
    return result


_BLOCK_DAY_ORDER = operator.attrgetter("surgeon_id", "location_id", "weekday", "start", "end")


class EpochIntervals(Sequence[SurgeonInterval]):
    """Surgeons' unavailable time as (surgeon, start, end) rows of epoch seconds, turned into
    datetimes only when read: a large search loads tens of thousands of busy intervals, and the
    engine reads those of the few surgeons whose blocks come early enough (`Calendar.unavailable`)."""

    def __init__(self, rows: Iterable[tuple[int, Sequence[float], Sequence[float]]]) -> None:
        """`rows`: each surgeon once, with the starts and the ends of their intervals."""
        self._by_surgeon = {surgeon_id: (starts, ends) for surgeon_id, starts, ends in rows}
        self._all: list[SurgeonInterval] | None = None

    def of_surgeon(self, surgeon_id: int) -> list[Interval]:
        starts, ends = self._by_surgeon.get(surgeon_id, ((), ()))
        from_epoch = dt.datetime.fromtimestamp
        return [
            (from_epoch(start, UTC), from_epoch(end, UTC)) for start, end in zip(starts, ends, strict=True)
        ]

    def _intervals(self) -> list[SurgeonInterval]:
        if self._all is None:
            self._all = [
                SurgeonInterval(surgeon_id, start, end)
                for surgeon_id in self._by_surgeon
                for start, end in self.of_surgeon(surgeon_id)
            ]
        return self._all

    def __len__(self) -> int:
        return sum(len(starts) for starts, _ in self._by_surgeon.values())

    def __getitem__(self, index: Any) -> Any:
        return self._intervals()[index]

    def __iter__(self) -> Iterator[SurgeonInterval]:
        return iter(self._intervals())


@dataclass
class Calendar:
    """Plain data for one search, indexed once: blocks, hours and closures by location, and each
    surgeon's unavailable time (time off and busy intervals) as one sorted, disjoint list."""

    timezones: dict[int, str]
    blocks: Sequence[BlockSpec]
    hours: Sequence[HoursSpec] = ()
    closures: Sequence[ClosureSpec] = ()
    time_off: Sequence[SurgeonInterval] = ()
    busy: Sequence[SurgeonInterval] = ()
    _hours: dict[tuple[int, int], list[tuple[dt.time, dt.time]]] = field(init=False, repr=False)
    _closures: dict[int, list[ClosureSpec]] = field(init=False, repr=False)
    _blocks: dict[tuple[int, int], list[BlockSpec]] = field(init=False, repr=False)
    _unavailable: dict[int, tuple[list[Interval], list[dt.datetime]]] = field(init=False, repr=False)
    _time_off: dict[int, tuple[list[Interval], list[dt.datetime]]] = field(init=False, repr=False)
    _lazy_busy: EpochIntervals | None = field(init=False, repr=False)
    _open: dict[tuple[int, dt.date], list[Interval] | None] = field(init=False, repr=False)
    # Conflict checks: open time and a surgeon's block time over runs of local days.
    _open_time: dict[tuple[int, tuple[dt.date, ...]], list[Interval]] = field(init=False, repr=False)
    _block_time: dict[tuple[int, int, tuple[dt.date, ...]], list[Interval]] = field(init=False, repr=False)
    _instants: dict[tuple[dt.date, dt.time, ZoneInfo], dt.datetime] = field(init=False, repr=False)
    # Whether two blocks of one surgeon at one location overlap on a weekday (slots may repeat).
    blocks_may_overlap: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self._hours = defaultdict(list)
        for hours in self.hours:
            self._hours[(hours.location_id, hours.weekday)].append((hours.opens, hours.closes))
        self._closures = defaultdict(list)
        for closure in self.closures:
            self._closures[closure.location_id].append(closure)
        self._blocks = defaultdict(list)
        for block in self.blocks:
            self._blocks[(block.location_id, block.weekday)].append(block)
        # Blocks that only touch (08:00-12:00 held, 12:00-16:30 open) cannot yield one slot twice.
        by_surgeon_day = sorted(self.blocks, key=_BLOCK_DAY_ORDER)
        self.blocks_may_overlap = any(
            earlier.surgeon_id == later.surgeon_id
            and earlier.location_id == later.location_id
            and earlier.weekday == later.weekday
            and later.start < earlier.end
            for earlier, later in itertools.pairwise(by_surgeon_day)
        )
        self._time_off = _by_surgeon(self.time_off)
        # Busy time read as epoch rows is merged per surgeon on first use (`unavailable`).
        self._lazy_busy = self.busy if isinstance(self.busy, EpochIntervals) else None
        self._unavailable = {} if self._lazy_busy is not None else _by_surgeon([*self.time_off, *self.busy])
        self._open = {}
        self._open_time = {}
        self._block_time = {}
        self._instants = {}

    def open_intervals(self, location_id: int, day: dt.date) -> list[Interval] | None:
        """The location's open time that local day, less part-day closures; None when the
        whole day is closed."""
        key = (location_id, day)
        if key in self._open:
            return self._open[key]
        tz = zone(self.timezones[location_id])
        partial: list[Interval] = []
        for closure in self._closures.get(location_id, ()):
            if closure.start_date <= day <= closure.end_date:
                if closure.whole_day:
                    self._open[key] = None
                    return None
                assert closure.start_time is not None and closure.end_time is not None  # noqa: S101 - whole_day checked
                partial.append(
                    (local_instant(day, closure.start_time, tz), local_instant(day, closure.end_time, tz))
                )
        hours = merge(
            (local_instant(day, opens, tz), local_instant(day, closes, tz))
            for opens, closes in self._hours.get((location_id, day.weekday()), ())
        )
        if partial:
            holes = merge(partial)
            hours = subtract(hours, holes, [end for _, end in holes])
        self._open[key] = hours
        return hours

    def instant(self, day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
        """local_instant, remembered: surgeons at one location share their start times."""
        key = (day, time, tz)
        found = self._instants.get(key)
        if found is None:
            found = self._instants[key] = local_instant(day, time, tz)
        return found

    def blocks_on(self, location_id: int, day: dt.date) -> list[BlockSpec]:
        return [
            block for block in self._blocks.get((location_id, day.weekday()), ()) if block.applies_on(day)
        ]

    def in_closure(
        self, location_id: int, start: dt.datetime, end: dt.datetime, days: Iterable[dt.date] | None = None
    ) -> bool:
        """Whether [start, end) touches a closure (whole-day or part-day) of the location; `days`
        are the local dates it touches, if the caller has them."""
        tz = zone(self.timezones[location_id])
        for day in local_dates(start, end, tz) if days is None else days:
            for closure in self._closures.get(location_id, ()):
                if not closure.start_date <= day <= closure.end_date:
                    continue
                if closure.whole_day:
                    return True
                assert closure.start_time is not None and closure.end_time is not None  # noqa: S101 - whole_day checked
                hole_start = local_instant(day, closure.start_time, tz)
                hole_end = local_instant(day, closure.end_time, tz)
                if hole_start < end and start < hole_end:
                    return True
        return False

    def open_time(self, location_id: int, days: tuple[dt.date, ...]) -> list[Interval]:
        """The location's open time over those local days, merged; remembered, since a day's
        visits share it."""
        key = (location_id, days)
        found = self._open_time.get(key)
        if found is None:
            found = self._open_time[key] = merge(
                interval for day in days for interval in self.open_intervals(location_id, day) or []
            )
        return found

    def block_time(self, surgeon_id: int, location_id: int, days: tuple[dt.date, ...]) -> list[Interval]:
        """The surgeon's block time at the location over those local days, merged; remembered."""
        key = (surgeon_id, location_id, days)
        found = self._block_time.get(key)
        if found is None:
            tz = zone(self.timezones[location_id])
            found = self._block_time[key] = merge(
                (self.instant(day, block.start, tz), self.instant(day, block.end, tz))
                for day in days
                for block in self.blocks_on(location_id, day)
                if block.surgeon_id == surgeon_id
            )
        return found

    def in_time_off(self, surgeon_id: int, start: dt.datetime, end: dt.datetime) -> bool:
        holes, ends = self._time_off.get(surgeon_id, ([], []))
        index = bisect.bisect_right(ends, start)
        return index < len(holes) and holes[index][0] < end

    def unavailable(self, surgeon_id: int) -> tuple[list[Interval], list[dt.datetime]]:
        found = self._unavailable.get(surgeon_id)
        if found is None:
            if self._lazy_busy is None:
                return ([], [])
            time_off = self._time_off.get(surgeon_id, ([], []))[0]
            merged = merge([*time_off, *self._lazy_busy.of_surgeon(surgeon_id)])
            found = self._unavailable[surgeon_id] = (merged, [end for _, end in merged])
        return found

    def busy_add(self, surgeon_id: int, start: dt.datetime, end: dt.datetime) -> None:
        """Mark [start, end) busy for the surgeon, in place: a what-if replay (booking.simulation)
        books without reloading. The caller only adds time that is free, so the list stays
        sorted and disjoint without merging, and `busy_remove` can take the same interval out."""
        holes, ends = self._unavailable.setdefault(surgeon_id, self.unavailable(surgeon_id))
        index = bisect.bisect_left(holes, (start, end))
        holes.insert(index, (start, end))
        ends.insert(index, end)

    def busy_remove(self, surgeon_id: int, start: dt.datetime, end: dt.datetime) -> None:
        """Take back an interval `busy_add` marked (a cancelled or moved what-if visit)."""
        holes, ends = self.unavailable(surgeon_id)
        index = bisect.bisect_left(holes, (start, end))
        if index == len(holes) or holes[index] != (start, end):
            raise ValueError("busy_remove: that interval was never added")
        del holes[index]
        del ends[index]


def _by_surgeon(intervals: Iterable[SurgeonInterval]) -> dict[int, tuple[list[Interval], list[dt.datetime]]]:
    grouped: dict[int, list[Interval]] = defaultdict(list)
    for interval in intervals:
        grouped[interval.surgeon_id].append((interval.start, interval.end))
    result: dict[int, tuple[list[Interval], list[dt.datetime]]] = {}
    for surgeon_id, items in grouped.items():
        merged = merge(items)
        result[surgeon_id] = (merged, [end for _, end in merged])
    return result


def _ceil_to_grid(origin: dt.datetime, at_least: dt.datetime, grid: dt.timedelta) -> dt.datetime:
    if at_least <= origin:
        return origin
    steps = -((origin - at_least) // grid)  # ceiling division of timedeltas
    return origin + steps * grid


def free_slots(
    calendar: Calendar,
    rules: SlotRules,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    location_dates: tuple[dt.date, dt.date] | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Every free slot starting in [start, end), ordered by start, surgeon, location.

    With `location_dates`, only slots whose start falls on those local dates (inclusive) at
    their own location are kept: "from Monday to Friday" means each clinic's own Monday.
    With `limit`, the first `limit` slots only: days are walked in order and the walk stops
    soon after enough are found.
    """
    if start.tzinfo is None or end.tzinfo is None or now.tzinfo is None:
        raise ValueError("start, end and now must be timezone-aware")
    earliest = max(start, now + rules.min_notice)
    if earliest >= end:
        return []
    zones = {location_id: zone(name) for location_id, name in calendar.timezones.items()}
    days_by_location = {location_id: set(local_dates(earliest, end, tz)) for location_id, tz in zones.items()}
    all_days = sorted({day for days in days_by_location.values() for day in days})
    slots: list[Slot] = []
    # With a limit: once `limit` slots are known, the latest of them. A local day that begins
    # after it cannot hold an earlier slot, and zones' days interleave, so the walk goes
    # on until no location's next day begins before it. Where no two blocks of a surgeon at a
    # location overlap (every slot is generated once), the cutoff is also kept slot by slot
    # (`_Cutoff`): no block is walked, and no block walked further, past it.
    cutoff: dt.datetime | None = None
    running = _Cutoff(limit) if limit is not None and not calendar.blocks_may_overlap else None
    for day in all_days:
        if location_dates is not None and not location_dates[0] <= day <= location_dates[1]:
            continue
        walked = False
        for location_id, tz in zones.items():
            if day not in days_by_location[location_id]:
                continue
            if running is not None:
                cutoff = running.at
            if cutoff is not None and calendar.instant(day, dt.time(0), tz) > cutoff:
                continue
            walked = True
            _day_slots(calendar, rules, location_id, tz, day, earliest, end, now, slots, running)
        if limit is None:
            continue
        if running is not None:
            if running.at is not None and cutoff is not None and not walked:
                break
            cutoff = running.at
            continue
        if cutoff is not None and not walked:
            break
        found = _unique(sorted(slots, key=_SLOT_ORDER)) if calendar.blocks_may_overlap else slots
        if len(found) >= limit:
            cutoff = heapq.nsmallest(limit, (slot.start for slot in found))[-1]
    slots.sort(key=_SLOT_ORDER)
    if calendar.blocks_may_overlap:
        slots = _unique(slots)
    return slots if limit is None else slots[:limit]


class _Cutoff:
    """The `limit`-th earliest start among the slots found so far (None until there are that
    many): a later start cannot be among the first `limit` slots."""

    __slots__ = ("_heap", "_limit", "at")

    def __init__(self, limit: int) -> None:
        self.at: dt.datetime | None = None
        self._heap: list[tuple[float, dt.datetime]] = []  # (-timestamp, start): a max-heap
        self._limit = limit

    def add(self, start: dt.datetime) -> None:
        if self.at is not None and start >= self.at:
            return
        item = (-start.timestamp(), start)
        if len(self._heap) < self._limit:
            heapq.heappush(self._heap, item)
        else:
            heapq.heapreplace(self._heap, item)
        if len(self._heap) == self._limit:
            self.at = self._heap[0][1]


# start, surgeon, location; a C-level key, since searches sort thousands of slots.
_SLOT_ORDER = operator.itemgetter(2, 0, 1)


def _day_slots(
    calendar: Calendar,
    rules: SlotRules,
    location_id: int,
    tz: ZoneInfo,
    day: dt.date,
    earliest: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    slots: list[Slot],
    cutoff: _Cutoff | None = None,
) -> None:
    """Append the free slots of one location's local day to `slots`; with `cutoff`, none that
    starts after it (each slot added moves it)."""
    blocks = calendar.blocks_on(location_id, day)
    if not blocks:
        return
    open_time = calendar.open_intervals(location_id, day)
    if not open_time:
        return
    needed, grid, duration = rules.needed, rules.grid, rules.duration
    new_slot = tuple.__new__
    tz_name = calendar.timezones[location_id]
    for block in blocks:
        block_start = calendar.instant(day, block.start, tz)
        block_end = calendar.instant(day, block.end, tz)
        if block_end - needed < earliest or block_start >= end or block_end - block_start < needed:
            continue
        if cutoff is not None and cutoff.at is not None and block_start > cutoff.at:
            continue
        holes, hole_ends = calendar.unavailable(block.surgeon_id)
        free = subtract(intersect([(block_start, block_end)], open_time), holes, hole_ends)
        if not free:
            continue
        release = dt.timedelta(hours=block.release_hours_before)
        reserved_code = block.reserved_tier_code
        tier_may_use = reserved_code is None or (
            rules.tier_rank is not None and rules.tier_rank >= (block.reserved_tier_rank or 0)
        )
        surgeon_id = block.surgeon_id
        for free_start, free_end in free:
            cursor = _ceil_to_grid(block_start, max(free_start, earliest), grid)
            last_start = min(free_end - needed, end - dt.timedelta(microseconds=1))
            while cursor <= last_start:
                if cutoff is not None:
                    if cutoff.at is not None and cursor > cutoff.at:
                        break
                    if reserved_code is None or tier_may_use or now >= cursor - release:
                        cutoff.add(cursor)
                if reserved_code is None:
                    # tuple.__new__ skips the NamedTuple's Python-level constructor: same object.
                    slots.append(
                        new_slot(Slot, (surgeon_id, location_id, cursor, cursor + duration, None, tz_name))
                    )
                else:
                    held = now < cursor - release
                    if tier_may_use or not held:
                        slots.append(
                            new_slot(
                                Slot,
                                (
                                    surgeon_id,
                                    location_id,
                                    cursor,
                                    cursor + duration,
                                    reserved_code if held else None,
                                    tz_name,
                                ),
                            )
                        )
                cursor += grid


def _unique(slots: list[Slot]) -> list[Slot]:
    """Two blocks of one surgeon at one location may overlap; a slot is still offered once."""
    result: list[Slot] = []
    seen: set[tuple[int, int, dt.datetime]] = set()
    for slot in slots:
        key = (slot.surgeon_id, slot.location_id, slot.start)
        if key not in seen:
            seen.add(key)
            result.append(slot)
    return result


def conflict_reason(
    calendar: Calendar, *, surgeon_id: int, location_id: int, start: dt.datetime, end: dt.datetime
) -> str | None:
    """Why the visit [start, end) no longer fits availability, or None if it does. Ignores other
    visits, notice, the grid and tier reservations: only closures, time off, hours and blocks."""
    if location_id not in calendar.timezones:
        return CONFLICT_OUTSIDE_BLOCKS
    days = tuple(local_dates(start, end, zone(calendar.timezones[location_id])))
    if calendar.in_closure(location_id, start, end, days):
        return CONFLICT_CLOSURE
    if calendar.in_time_off(surgeon_id, start, end):
        return CONFLICT_TIME_OFF
    if not _covers(calendar.open_time(location_id, days), start, end):
        return CONFLICT_OUTSIDE_HOURS
    if not _covers(calendar.block_time(surgeon_id, location_id, days), start, end):
        return CONFLICT_OUTSIDE_BLOCKS
    return None


def _covers(intervals: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return any(interval_start <= start and end <= interval_end for interval_start, interval_end in intervals)


# --- Why a start is not bookable ------------------------------------------------------------------

# The codes a refused start carries (slot check and booking's 409 alike).
REFUSAL_TAKEN = "taken"
REFUSAL_OUTSIDE_HOURS = "outside_hours"
REFUSAL_LOCATION_CLOSED = "location_closed"
REFUSAL_SURGEON_OFF = "surgeon_off"
REFUSAL_NOT_IN_BLOCK = "not_in_block"
REFUSAL_OFF_GRID = "off_grid"
REFUSAL_RESERVED_FOR_TIER = "reserved_for_tier"
REFUSAL_MIN_NOTICE = "min_notice"
REFUSAL_IN_PAST = "in_past"
REFUSAL_SURGEON_NOT_AT_LOCATION = "surgeon_not_at_location"
REFUSAL_CODES = (
    REFUSAL_TAKEN,
    REFUSAL_OUTSIDE_HOURS,
    REFUSAL_LOCATION_CLOSED,
    REFUSAL_SURGEON_OFF,
    REFUSAL_NOT_IN_BLOCK,
    REFUSAL_OFF_GRID,
    REFUSAL_RESERVED_FOR_TIER,
    REFUSAL_MIN_NOTICE,
    REFUSAL_IN_PAST,
    REFUSAL_SURGEON_NOT_AT_LOCATION,
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a start is not offered. With `reserved_for_tier`: the tier it is held for and when
    the hold ends (`release_at`, UTC)."""

    code: str
    reserved_tier_code: str | None = None
    release_at: dt.datetime | None = None


def slot_refusal(
    calendar: Calendar,
    rules: SlotRules,
    *,
    surgeon_id: int,
    location_id: int,
    start: dt.datetime,
    now: dt.datetime,
    time_off: Callable[[], Sequence[Interval]] = tuple,
) -> Refusal | None:
    """None when slot search offers exactly this start (it asks `free_slots` itself, so the two
    cannot disagree); otherwise the first reason, in the order a scheduler would fix them: the
    clock, the surgeon's place, the clinic, the surgeon's time, the block and its grid, a tier's
    hold, and last another visit. The reasons are worked out only for a refused start.

    `time_off` gives the surgeon's time off around the start, for a calendar that holds it among
    the busy intervals (slot search's, which needs only their union); it is called only on refusal.
    """
    offered = free_slots(calendar, rules, start=start, end=start + dt.timedelta(microseconds=1), now=now)
    if any(slot.surgeon_id == surgeon_id and slot.location_id == location_id for slot in offered):
        return None
    return Refusal(*_refusal_reason(calendar, rules, surgeon_id, location_id, start, now, time_off))


def _refusal_reason(
    calendar: Calendar,
    rules: SlotRules,
    surgeon_id: int,
    location_id: int,
    start: dt.datetime,
    now: dt.datetime,
    time_off: Callable[[], Sequence[Interval]],
) -> tuple[str, str | None, dt.datetime | None]:
    if start < now:
        return REFUSAL_IN_PAST, None, None
    if start < now + rules.min_notice:
        return REFUSAL_MIN_NOTICE, None, None
    if location_id not in calendar.timezones or not any(
        block.surgeon_id == surgeon_id and block.location_id == location_id for block in calendar.blocks
    ):
        return REFUSAL_SURGEON_NOT_AT_LOCATION, None, None
    tz = zone(calendar.timezones[location_id])
    end = start + rules.needed
    days = tuple(local_dates(start, end, tz))
    if calendar.in_closure(location_id, start, end, days):
        return REFUSAL_LOCATION_CLOSED, None, None
    if calendar.in_time_off(surgeon_id, start, end) or any(
        off_start < end and start < off_end for off_start, off_end in time_off()
    ):
        return REFUSAL_SURGEON_OFF, None, None
    if not _covers(calendar.open_time(location_id, days), start, end):
        return REFUSAL_OUTSIDE_HOURS, None, None
    day = start.astimezone(tz).date()
    covering = [
        block
        for block in calendar.blocks_on(location_id, day)
        if block.surgeon_id == surgeon_id
        and calendar.instant(day, block.start, tz) <= start
        and end <= calendar.instant(day, block.end, tz)
    ]
    if not covering:
        return REFUSAL_NOT_IN_BLOCK, None, None
    on_grid = [
        block for block in covering if not (start - calendar.instant(day, block.start, tz)) % rules.grid
    ]
    if not on_grid:
        return REFUSAL_OFF_GRID, None, None
    held = [
        block
        for block in on_grid
        if block.reserved_tier_code is not None
        and not (rules.tier_rank is not None and rules.tier_rank >= (block.reserved_tier_rank or 0))
        and now < start - dt.timedelta(hours=block.release_hours_before)
    ]
    if len(held) == len(on_grid):
        first = min(held, key=lambda block: start - dt.timedelta(hours=block.release_hours_before))
        return (
            REFUSAL_RESERVED_FOR_TIER,
            first.reserved_tier_code,
            start - dt.timedelta(hours=first.release_hours_before),
        )
    return REFUSAL_TAKEN, None, None


# --- Slots as the API shows them -----------------------------------------------------------------


def slot_data(slot: Slot) -> dict[str, Any]:
    """What booking.serializers.SlotSerializer renders, built directly: search answers hold thousands of slots."""
    return slots_data([slot])[0]


def slots_data(slots: Iterable[Slot]) -> list[dict[str, Any]]:
    """slot_data for many slots. Surgeons share start times, so each instant is rendered in
    each zone once."""
    rendered: dict[tuple[dt.datetime, str], str] = {}

    def local(instant: dt.datetime, timezone: str) -> str:
        key = (instant, timezone)
        text = rendered.get(key)
        if text is None:
            text = rendered[key] = instant.astimezone(zone(timezone)).isoformat()
        return text

    return [
        {
            "surgeon": slot.surgeon_id,
            "location": slot.location_id,
            "start": local(slot.start, slot.timezone),
            "end": local(slot.end, slot.timezone),
            "reserved_for_tier": slot.reserved_for_tier,
        }
        for slot in slots
    ]
