"""The replay: synthetic referrals booked, cancelled and moved on an in-memory copy of the
practice's availability, through the slot engine (`booking.availability`). No ORM here.

Each location gets its own engine `Calendar` built from the loaded templates (with the policy's
reserve applied to copies of the blocks). A booking marks the surgeon busy in place
(`Calendar.busy_add`) and forgets only the location-days it touches; each location-day's free
slots are the engine's answer (`free_slots`), remembered until a booking or cancellation touches
that day. A search for a tier reads those lists with the engine's own rules for notice and for
held reserves (a reserved slot is open to its tier, or a more urgent one, until its release),
so the per-referral work does not grow with the size of the calendar.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from booking.availability import (
    BlockSpec,
    Calendar,
    Slot,
    SlotRules,
    free_slots,
    intersect,
    local_dates,
    subtract,
    zone,
)
from booking.simulation.inputs import CONFIGURED, NO_RESERVE, ReservePolicy
from practice.errors import InvalidInput

_MIDNIGHT = dt.time(0)
# Referrals arrive Monday to Friday between these local hours of the practice's first location.
_REFERRAL_DAY = (dt.time(8), dt.time(17))
_WORKDAYS = 5


@dataclass(frozen=True)
class Tier:
    code: str
    rank: int
    max_wait_days: int


@dataclass(frozen=True)
class Templates:
    """The practice as loaded once: its availability (never changed), tiers, the simulated
    visit's rules (no tier rank), and the period: warm-up from `start`, measured from
    `measure_start` to `measure_end`, bookable until `horizon_end`."""

    calendar: Calendar
    tiers: tuple[Tier, ...]
    rules: SlotRules
    start: dt.datetime
    measure_start: dt.datetime
    measure_end: dt.datetime
    horizon_end: dt.datetime
    zone_name: str
    appointment_type: str = ""


@dataclass(frozen=True)
class Arrival:
    """A synthetic referral and its fate's random draws, shared by every policy replayed."""

    index: int
    tier: Tier
    at: dt.datetime
    cancels: bool
    cancel_fraction: float
    no_show: bool


@dataclass(slots=True)
class Visit:
    """Where one referral stands in one replay."""

    status: str = "waiting"  # booked, seen, no_show, cancelled, unbooked
    surgeon_id: int = 0
    location_id: int = 0
    start: dt.datetime | None = None
    held: bool = False  # booked into a reserved slot while it was still held
    reserved: bool = False  # booked into a reserved block's time at all
    moves: int = 0
    version: int = 0


@dataclass
class Capacity:
    """Visits of the simulated type that fit, packed earliest first, in the measured period."""

    visits: int = 0
    reserved_visits: int = 0
    block_hours: float = 0.0


@dataclass
class ReplayResult:
    policy: ReservePolicy
    arrivals: list[Arrival]
    visits: list[Visit]
    capacity: Capacity
    searches: int = 0


# --- The practice's demand ------------------------------------------------------------------------


def arrivals_generate(
    *,
    templates: Templates,
    per_week: float,
    tier_mix: dict[str, float],
    seed: int,
    cancel_rate: float,
    no_show_rate: float,
) -> list[Arrival]:
    """Referrals as a Poisson stream over working hours (Monday to Friday, 08:00-17:00 at the
    practice's first location), each drawn a tier by `tier_mix` and its cancellation and no-show
    fate; the same for a seed, whatever the policy."""
    tiers = {tier.code: tier for tier in templates.tiers}
    unknown = set(tier_mix) - set(tiers)
    if unknown:
        raise InvalidInput.for_field("tier_mix", f"Unknown tiers: {', '.join(sorted(unknown))}.")
    mix = [
        (tiers[code], share)
        for code, share in sorted(tier_mix.items(), key=lambda item: -tiers[item[0]].rank)
    ]
    total = sum(share for _, share in mix)
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    tz = zone(templates.zone_name)
    day_hours = (
        dt.datetime.combine(dt.date.min, _REFERRAL_DAY[1])
        - dt.datetime.combine(dt.date.min, _REFERRAL_DAY[0])
    ).seconds / 3600
    week_hours = day_hours * _WORKDAYS
    rate = per_week / week_hours
    first_monday = templates.start.astimezone(tz).date()
    # Rounded: a period across a DST change is a few hours short of (or past) whole weeks.
    weeks = round((templates.measure_end - templates.start) / dt.timedelta(weeks=1))
    arrivals: list[Arrival] = []
    clock = 0.0
    while True:
        clock += rng.expovariate(rate)
        week, within = divmod(clock, week_hours)
        if week >= weeks:
            break
        day, hours = divmod(within, day_hours)
        local = dt.datetime.combine(
            first_monday + dt.timedelta(days=7 * int(week) + int(day)), _REFERRAL_DAY[0], tzinfo=tz
        ) + dt.timedelta(hours=hours)
        draw = rng.random() * total
        chosen = mix[-1][0]
        for tier, share in mix:
            if draw < share:
                chosen = tier
                break
            draw -= share
        arrivals.append(
            Arrival(
                index=len(arrivals),
                tier=chosen,
                at=local.astimezone(dt.UTC),
                cancels=rng.random() < cancel_rate,
                cancel_fraction=rng.random(),
                no_show=rng.random() < no_show_rate,
            )
        )
    return arrivals


# --- Policies on copies of the blocks -------------------------------------------------------------


def _plus(time: dt.time, minutes: int) -> dt.time:
    return (dt.datetime.combine(dt.date.min, time) + dt.timedelta(minutes=minutes)).time()


def _minutes(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def policy_blocks(
    blocks: Sequence[BlockSpec], *, policy: ReservePolicy, top: Tier, rules: SlotRules
) -> list[BlockSpec]:
    """Copies of `blocks` under `policy`. A percentage reserve is rounded to whole visits of the
    simulated type (each visit's time rounded up to the grid, as the engine packs them) and held
    at the end of each block, so that the open part and the held part each pack as many visits
    as they can: a split at an arbitrary minute would waste a visit in most blocks."""
    if policy.kind == CONFIGURED:
        return list(blocks)
    if policy.kind == NO_RESERVE:
        return [
            dataclasses.replace(block, reserved_tier_code=None, reserved_tier_rank=None) for block in blocks
        ]
    grid = int(rules.grid.total_seconds() // 60)
    needed = int(rules.needed.total_seconds() // 60)
    step = -(-needed // grid) * grid
    result = []
    for block in blocks:
        length = _minutes(block.start, block.end)
        held_visits = round(length * policy.percent / 100 / step)
        held = min(length, held_visits * step)
        open_part = dataclasses.replace(block, reserved_tier_code=None, reserved_tier_rank=None)
        if held <= 0:
            result.append(open_part)
            continue
        held_part = dataclasses.replace(
            block,
            reserved_tier_code=top.code,
            reserved_tier_rank=top.rank,
            release_hours_before=policy.release_hours,
        )
        if held >= length:
            result.append(held_part)
            continue
        split = _plus(block.start, length - held)
        result.append(dataclasses.replace(open_part, end=split))
        result.append(dataclasses.replace(held_part, start=split))
    return result


# --- The replay -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _DaySlots:
    """One location's local day: the engine's free slots, those outside any reserve apart from
    those in one (with each one's release instant and reserved rank)."""

    open_starts: list[dt.datetime]
    open_slots: list[Slot]
    held_starts: list[dt.datetime]
    held_slots: list[Slot]
    held_releases: list[dt.datetime]
    held_ranks: list[int]
    min_release: dt.datetime | None
    min_rank: int


@dataclass
class _Offer:
    slot: Slot
    held: bool
    reserved: bool


@dataclass
class Replay:
    """One policy's replay over the loaded templates. `check_against_engine` also asks the
    engine's `free_slots` directly for every search and fails on any difference (tests)."""

    templates: Templates
    policy: ReservePolicy
    check_against_engine: bool = False
    calendars: dict[int, Calendar] = field(init=False)
    surgeon_locations: dict[int, list[int]] = field(init=False)
    _days: dict[tuple[int, dt.date], _DaySlots] = field(init=False, default_factory=dict)
    _tier_rules: dict[int, SlotRules] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        base = self.templates.calendar
        top = max(self.templates.tiers, key=lambda tier: tier.rank)
        blocks = policy_blocks(base.blocks, policy=self.policy, top=top, rules=self.templates.rules)
        self.calendars = {}
        self.surgeon_locations = {}
        for location_id, timezone in sorted(base.timezones.items()):
            here = [block for block in blocks if block.location_id == location_id]
            if not here:
                continue
            surgeons = {block.surgeon_id for block in here}
            for surgeon_id in sorted(surgeons):
                self.surgeon_locations.setdefault(surgeon_id, []).append(location_id)
            self.calendars[location_id] = Calendar(
                timezones={location_id: timezone},
                blocks=here,
                hours=[hours for hours in base.hours if hours.location_id == location_id],
                closures=[closure for closure in base.closures if closure.location_id == location_id],
                time_off=[interval for interval in base.time_off if interval.surgeon_id in surgeons],
                busy=[interval for interval in base.busy if interval.surgeon_id in surgeons],
            )
        self._top_rank = top.rank
        self._top_rules = dataclasses.replace(self.templates.rules, tier_rank=top.rank)
        self._days = {}
        self._tier_rules = {}

    # The engine's free slots of one location-day, remembered until a booking there.

    def _day(self, location_id: int, day: dt.date) -> _DaySlots:
        key = (location_id, day)
        found = self._days.get(key)
        if found is not None:
            return found
        calendar = self.calendars[location_id]
        tz = zone(calendar.timezones[location_id])
        low = calendar.instant(day, _MIDNIGHT, tz)
        high = calendar.instant(day + dt.timedelta(days=1), _MIDNIGHT, tz)
        # As the most urgent tier sees them long before any release: every slot, reserved ones
        # marked with their tier. Notice and release are applied per search below.
        slots = free_slots(calendar, self._top_rules, start=low, end=high, now=low - dt.timedelta(days=400))
        open_slots = [slot for slot in slots if slot.reserved_for_tier is None]
        held_slots = [slot for slot in slots if slot.reserved_for_tier is not None]
        releases: list[dt.datetime] = []
        ranks: list[int] = []
        if held_slots:
            reserved_blocks = [
                (block, calendar.instant(day, block.start, tz), calendar.instant(day, block.end, tz))
                for block in calendar.blocks_on(location_id, day)
                if block.reserved_tier_code is not None
            ]
            for slot in held_slots:
                block = next(
                    block
                    for block, block_start, block_end in reserved_blocks
                    if block.surgeon_id == slot.surgeon_id and block_start <= slot.start < block_end
                )
                releases.append(slot.start - dt.timedelta(hours=block.release_hours_before))
                ranks.append(block.reserved_tier_rank or 0)
        found = self._days[key] = _DaySlots(
            open_starts=[slot.start for slot in open_slots],
            open_slots=open_slots,
            held_starts=[slot.start for slot in held_slots],
            held_slots=held_slots,
            held_releases=releases,
            held_ranks=ranks,
            min_release=min(releases) if releases else None,
            min_rank=min(ranks) if ranks else 0,
        )
        return found

    def _first_on(
        self, days: _DaySlots, *, rank: int, earliest: dt.datetime, now: dt.datetime
    ) -> _Offer | None:
        """The earliest slot of a location-day the tier may book at `now`: the engine's rule."""
        best: _Offer | None = None
        index = bisect.bisect_left(days.open_starts, earliest)
        if index < len(days.open_slots):
            best = _Offer(days.open_slots[index], held=False, reserved=False)
        if days.held_slots and (
            rank >= days.min_rank or (days.min_release is not None and now >= days.min_release)
        ):
            index = bisect.bisect_left(days.held_starts, earliest)
            for position in range(index, len(days.held_slots)):
                slot = days.held_slots[position]
                if best is not None and slot.start > best.slot.start:
                    break
                release = days.held_releases[position]
                if rank >= days.held_ranks[position] or now >= release:
                    if best is None or (slot.start, slot.surgeon_id) < (
                        best.slot.start,
                        best.slot.surgeon_id,
                    ):
                        best = _Offer(slot, held=now < release, reserved=True)
                    break
        return best

    def earliest(self, *, tier: Tier, now: dt.datetime) -> _Offer | None:
        """The earliest slot the tier may book at `now` before the horizon, in the engine's order
        (start, surgeon, location), or None."""
        earliest = now + self.templates.rules.min_notice
        horizon = self.templates.horizon_end
        day = (earliest - dt.timedelta(days=1)).date()
        last_day = horizon.date() + dt.timedelta(days=1)
        best: _Offer | None = None
        found_on: dt.date | None = None
        while day <= last_day:
            for location_id in self.calendars:
                offer = self._first_on(
                    self._day(location_id, day), rank=tier.rank, earliest=earliest, now=now
                )
                if (
                    offer is not None
                    and offer.slot.start < horizon
                    and (best is None or _order(offer.slot) < _order(best.slot))
                ):
                    best = offer
            if best is not None and found_on is None:
                found_on = day  # zones' days interleave: one more day may hold an earlier slot
            elif found_on is not None:
                break
            day += dt.timedelta(days=1)
        if self.check_against_engine:
            self._check(tier=tier, now=now, found=best)
        return best

    def _check(self, *, tier: Tier, now: dt.datetime, found: _Offer | None) -> None:
        rules = self._rules(tier)
        engine = [
            slots[0]
            for calendar in self.calendars.values()
            if (
                slots := free_slots(
                    calendar, rules, start=now, end=self.templates.horizon_end, now=now, limit=1
                )
            )
        ]
        expected = min(engine, key=_order) if engine else None
        got = None if found is None else found.slot
        if (expected is None) != (got is None) or (
            expected is not None and got is not None and _order(expected) != _order(got)
        ):
            raise AssertionError(f"replay offered {got}, the engine {expected} ({tier.code} at {now})")

    def _rules(self, tier: Tier) -> SlotRules:
        rules = self._tier_rules.get(tier.rank)
        if rules is None:
            rules = self._tier_rules[tier.rank] = dataclasses.replace(
                self.templates.rules, tier_rank=tier.rank
            )
        return rules

    def slot_offer(
        self, *, tier: Tier, location_id: int, surgeon_id: int, start: dt.datetime, now: dt.datetime
    ) -> _Offer | None:
        """This exact slot, if the tier may book it at `now` (a freed slot offered to the waitlist)."""
        found = self._slot_offer(
            tier=tier, location_id=location_id, surgeon_id=surgeon_id, start=start, now=now
        )
        if self.check_against_engine:
            # slot_is_free's question: is exactly this slot among the engine's answers?
            calendar = self.calendars[location_id]
            engine = any(
                slot.surgeon_id == surgeon_id and slot.start == start
                for slot in free_slots(
                    calendar,
                    self._rules(tier),
                    start=start,
                    end=start + dt.timedelta(microseconds=1),
                    now=now,
                )
            )
            if engine != (found is not None):
                raise AssertionError(f"replay offers {found}, the engine {engine} ({tier.code} at {now})")
        return found

    def _slot_offer(
        self, *, tier: Tier, location_id: int, surgeon_id: int, start: dt.datetime, now: dt.datetime
    ) -> _Offer | None:
        if start < now + self.templates.rules.min_notice:
            return None
        calendar = self.calendars[location_id]
        days = self._day(location_id, start.astimezone(zone(calendar.timezones[location_id])).date())
        index = bisect.bisect_left(days.open_starts, start)
        while index < len(days.open_slots) and days.open_starts[index] == start:
            if days.open_slots[index].surgeon_id == surgeon_id:
                return _Offer(days.open_slots[index], held=False, reserved=False)
            index += 1
        index = bisect.bisect_left(days.held_starts, start)
        while index < len(days.held_slots) and days.held_starts[index] == start:
            if days.held_slots[index].surgeon_id == surgeon_id:
                release = days.held_releases[index]
                if tier.rank >= days.held_ranks[index] or now >= release:
                    return _Offer(days.held_slots[index], held=now < release, reserved=True)
                return None
            index += 1
        return None

    def busy_change(self, *, surgeon_id: int, start: dt.datetime, add: bool) -> None:
        """Book or free [start, start + visit and buffer) for the surgeon, wherever they work."""
        needed = self.templates.rules.needed
        end = start + needed
        for location_id in self.surgeon_locations[surgeon_id]:
            calendar = self.calendars[location_id]
            if add:
                calendar.busy_add(surgeon_id, start, end)
            else:
                calendar.busy_remove(surgeon_id, start, end)
            # A slot needs [its start, start + needed) free: those starting in (start - needed, end).
            for day in local_dates(start - needed, end, zone(calendar.timezones[location_id])):
                self._days.pop((location_id, day), None)

    def capacity(self) -> Capacity:
        """Visits that fit in the measured period on the policy's blocks, packed earliest first
        on the grid (as earliest-first booking fills an empty calendar), before any replay."""
        capacity = Capacity()
        rules = self.templates.rules
        low, high = self.templates.measure_start, self.templates.measure_end
        for location_id, calendar in self.calendars.items():
            tz = zone(calendar.timezones[location_id])
            for day in local_dates(low, high, tz):
                open_time = calendar.open_intervals(location_id, day)
                if not open_time:
                    continue
                for block in calendar.blocks_on(location_id, day):
                    block_start = calendar.instant(day, block.start, tz)
                    block_end = calendar.instant(day, block.end, tz)
                    if not low <= block_start < high:
                        continue
                    holes, ends = calendar.unavailable(block.surgeon_id)
                    free = subtract(intersect([(block_start, block_end)], open_time), holes, ends)
                    fits = 0
                    for free_start, free_end in free:
                        capacity.block_hours += (free_end - free_start).total_seconds() / 3600
                        cursor = _ceil(block_start, free_start, rules.grid)
                        while cursor + rules.needed <= free_end:
                            fits += 1
                            cursor = _ceil(block_start, cursor + rules.needed, rules.grid)
                    capacity.visits += fits
                    if block.reserved_tier_code is not None:
                        capacity.reserved_visits += fits
        return capacity


def _ceil(origin: dt.datetime, at_least: dt.datetime, grid: dt.timedelta) -> dt.datetime:
    if at_least <= origin:
        return origin
    return origin + -((origin - at_least) // grid) * grid


def _order(slot: Slot) -> tuple[dt.datetime, int, int]:
    return (slot.start, slot.surgeon_id, slot.location_id)


_ARRIVE, _CANCEL, _VISIT = 0, 1, 2


def replay_run(
    *,
    templates: Templates,
    policy: ReservePolicy,
    arrivals: list[Arrival],
    waitlist: bool = True,
    progress: Callable[[float], None] | None = None,
    check_against_engine: bool = False,
) -> ReplayResult:
    """Replay `arrivals` under `policy`: each referral books the earliest slot its tier may have
    (as a scheduler would); a cancellation frees its slot, which is offered to the waiting
    referrals as the waitlist offers it (most urgent tier first, then the longest waiting, to a
    referral booked on a later day), and a move frees the mover's slot in turn. A
    no-show keeps its slot (the time is lost). Nothing outside the replay changes."""
    replay = Replay(templates, policy, check_against_engine=check_against_engine)
    capacity = replay.capacity()
    visits = [Visit() for _ in arrivals]
    tiers = sorted(templates.tiers, key=lambda tier: -tier.rank)
    waiting: dict[str, list[int]] = {tier.code: [] for tier in tiers}
    events: list[tuple[dt.datetime, int, int, int, int]] = []
    sequence = 0

    def push(at: dt.datetime, kind: int, index: int, version: int = 0) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, kind, sequence, index, version))

    def book(index: int, offer: _Offer, now: dt.datetime) -> None:
        visit = visits[index]
        slot = offer.slot
        replay.busy_change(surgeon_id=slot.surgeon_id, start=slot.start, add=True)
        visit.status, visit.surgeon_id, visit.location_id, visit.start = (
            "booked",
            slot.surgeon_id,
            slot.location_id,
            slot.start,
        )
        visit.held, visit.reserved = offer.held, offer.reserved
        visit.version += 1
        push(slot.start, _VISIT, index, visit.version)

    for arrival in arrivals:
        push(arrival.at, _ARRIVE, arrival.index)
    total = max(1, len(arrivals))
    handled = searches = 0
    while events:
        now, kind, _, index, version = heapq.heappop(events)
        visit = visits[index]
        arrival = arrivals[index]
        if kind == _ARRIVE:
            searches += 1
            offer = replay.earliest(tier=arrival.tier, now=now)
            if offer is None:
                visit.status = "unbooked"
                continue
            book(index, offer, now)
            waiting[arrival.tier.code].append(index)
            if arrival.cancels:
                assert visit.start is not None  # noqa: S101 - just booked
                push(now + (visit.start - now) * arrival.cancel_fraction, _CANCEL, index)
            handled += 1
            if progress is not None and handled % 500 == 0:
                progress(handled / total)
        elif kind == _VISIT:
            if visit.status == "booked" and version == visit.version:
                visit.status = "no_show" if arrival.no_show else "seen"
        elif visit.status == "booked" and visit.start is not None and visit.start > now:
            visit.status = "cancelled"
            freed = [(visit.location_id, visit.surgeon_id, visit.start)]
            replay.busy_change(surgeon_id=visit.surgeon_id, start=visit.start, add=False)
            while waitlist and freed:
                location_id, surgeon_id, start = freed.pop()
                mover = _waitlist_take(replay, visits, waiting, tiers, location_id, surgeon_id, start, now)
                if mover is None:
                    continue
                moved_index, offer = mover
                moved = visits[moved_index]
                assert moved.start is not None  # noqa: S101 - a booked visit has a start
                freed.append((moved.location_id, moved.surgeon_id, moved.start))
                replay.busy_change(surgeon_id=moved.surgeon_id, start=moved.start, add=False)
                book(moved_index, offer, now)
                moved.moves += 1
        if (handled + 1) % 2000 == 0:
            for code, indexes in waiting.items():
                waiting[code] = [i for i in indexes if visits[i].status == "booked"]
    if progress is not None:
        progress(1.0)
    return ReplayResult(policy=policy, arrivals=arrivals, visits=visits, capacity=capacity, searches=searches)


def _waitlist_take(
    replay: Replay,
    visits: list[Visit],
    waiting: dict[str, list[int]],
    tiers: list[Tier],
    location_id: int,
    surgeon_id: int,
    start: dt.datetime,
    now: dt.datetime,
) -> tuple[int, _Offer] | None:
    """The waiting referral a freed slot goes to: the most urgent tier that may book it now,
    then the longest waiting whose visit is on a later day (nobody waits to move an hour
    earlier on the same day); with the offer it takes."""
    tz = zone(replay.calendars[location_id].timezones[location_id])
    # Local midnight after the freed slot's day: a visit from then on is on a later day.
    next_day = dt.datetime.combine(start.astimezone(tz).date() + dt.timedelta(days=1), _MIDNIGHT, tzinfo=tz)
    for tier in tiers:
        offer = replay.slot_offer(
            tier=tier, location_id=location_id, surgeon_id=surgeon_id, start=start, now=now
        )
        if offer is None:
            continue
        for index in waiting[tier.code]:
            visit = visits[index]
            if visit.status == "booked" and visit.start is not None and visit.start >= next_day:
                return index, offer
    return None
