"""The in-memory calendar a replay books on, answering through the slot engine
(`booking.availability`). No ORM here.

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
from dataclasses import dataclass, field

from booking.availability import (
    Calendar,
    Slot,
    SlotRules,
    free_slots,
    intersect,
    local_dates,
    subtract,
    zone,
)
from booking.simulation.inputs import ReservePolicy
from booking.simulation.policies import policy_blocks
from booking.simulation.records import Capacity, Templates, Tier

_MIDNIGHT = dt.time(0)


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
class Offer:
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
    ) -> Offer | None:
        """The earliest slot of a location-day the tier may book at `now`: the engine's rule."""
        best: Offer | None = None
        index = bisect.bisect_left(days.open_starts, earliest)
        if index < len(days.open_slots):
            best = Offer(days.open_slots[index], held=False, reserved=False)
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
                        best = Offer(slot, held=now < release, reserved=True)
                    break
        return best

    def earliest(self, *, tier: Tier, now: dt.datetime) -> Offer | None:
        """The earliest slot the tier may book at `now` before the horizon, in the engine's order
        (start, surgeon, location), or None."""
        earliest = now + self.templates.rules.min_notice
        horizon = self.templates.horizon_end
        day = (earliest - dt.timedelta(days=1)).date()
        last_day = horizon.date() + dt.timedelta(days=1)
        best: Offer | None = None
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

    def _check(self, *, tier: Tier, now: dt.datetime, found: Offer | None) -> None:
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
    ) -> Offer | None:
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
    ) -> Offer | None:
        if start < now + self.templates.rules.min_notice:
            return None
        calendar = self.calendars[location_id]
        days = self._day(location_id, start.astimezone(zone(calendar.timezones[location_id])).date())
        index = bisect.bisect_left(days.open_starts, start)
        while index < len(days.open_slots) and days.open_starts[index] == start:
            if days.open_slots[index].surgeon_id == surgeon_id:
                return Offer(days.open_slots[index], held=False, reserved=False)
            index += 1
        index = bisect.bisect_left(days.held_starts, start)
        while index < len(days.held_slots) and days.held_starts[index] == start:
            if days.held_slots[index].surgeon_id == surgeon_id:
                release = days.held_releases[index]
                if tier.rank >= days.held_ranks[index] or now >= release:
                    return Offer(days.held_slots[index], held=now < release, reserved=True)
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
