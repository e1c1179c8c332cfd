"""Property tests of the pure slot engine against a slot-by-slot oracle written independently.

Whatever the blocks, hours, closures, time off and visits, every slot the engine returns is on
the grid, inside a block and the opening hours, clear of closures, time off and visits (with
buffers), after the notice, and never held for a more urgent tier before release; and every
position the oracle accepts is returned (nothing is missing).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
)

ZONES = ["America/Chicago", "America/Phoenix", "UTC", "Europe/London", "Australia/Lord_Howe"]
# Ordinary days, and the days the clocks change in the US and in Europe.
BASE_DAYS = [
    dt.date(2027, 3, 1),
    dt.date(2027, 3, 14),
    dt.date(2027, 3, 28),
    dt.date(2027, 11, 7),
    dt.date(2027, 10, 31),
]
SURGEONS = [1, 2]
LOCATIONS = [10, 20]
TIER_RANKS = {"urgent": 20, "standard": 10}


def quarter_hours(low: int = 0, high: int = 95) -> st.SearchStrategy[dt.time]:
    return st.integers(low, high).map(lambda q: dt.time(q // 4, (q % 4) * 15))


@st.composite
def spans(draw: st.DrawFn) -> tuple[dt.time, dt.time]:
    start = draw(st.integers(0, 90))
    end = draw(st.integers(start + 1, 95))
    return dt.time(start // 4, (start % 4) * 15), dt.time(end // 4, (end % 4) * 15)


@st.composite
def wide_spans(draw: st.DrawFn) -> tuple[dt.time, dt.time]:
    start = draw(st.integers(0, 36))
    end = draw(st.integers(64, 95))
    return dt.time(start // 4, (start % 4) * 15), dt.time(end // 4, (end % 4) * 15)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    base = draw(st.sampled_from(BASE_DAYS))
    days = [base + dt.timedelta(days=offset) for offset in range(-1, 3)]
    timezones = {location: draw(st.sampled_from(ZONES)) for location in LOCATIONS}
    blocks = []
    for _ in range(draw(st.integers(1, 6))):
        start, end = draw(spans())
        day = draw(st.sampled_from(days))
        reserved = draw(st.sampled_from([None, "urgent", "standard"]))
        blocks.append(
            BlockSpec(
                surgeon_id=draw(st.sampled_from(SURGEONS)),
                location_id=draw(st.sampled_from(LOCATIONS)),
                weekday=day.weekday(),
                start=start,
                end=end,
                valid_from=draw(st.sampled_from([dt.date(2027, 1, 1), day])),
                valid_until=draw(st.sampled_from([None, day, day + dt.timedelta(days=1)])),
                reserved_tier_code=reserved,
                reserved_tier_rank=TIER_RANKS[reserved] if reserved else None,
                release_hours_before=draw(st.sampled_from([0, 12, 48])),
            )
        )
    hours = []
    for location in LOCATIONS:
        for weekday in range(7):
            if draw(st.integers(0, 5)):
                opens, closes = draw(st.one_of(wide_spans(), spans()))
                hours.append(HoursSpec(location_id=location, weekday=weekday, opens=opens, closes=closes))
    closures = []
    for _ in range(draw(st.integers(0, 1))):
        day = draw(st.sampled_from(days))
        part = draw(st.one_of(st.none(), spans()))
        closures.append(
            ClosureSpec(
                location_id=draw(st.sampled_from(LOCATIONS)),
                start_date=day,
                end_date=day + dt.timedelta(days=draw(st.integers(0, 1))),
                start_time=part[0] if part else None,
                end_time=part[1] if part else None,
            )
        )
    anchor = dt.datetime.combine(base, dt.time(0), tzinfo=dt.UTC)

    def intervals(count: int, longest: int) -> list[SurgeonInterval]:
        found = []
        for _ in range(count):
            start = anchor + dt.timedelta(minutes=draw(st.integers(-1440, 3 * 1440)))
            found.append(
                SurgeonInterval(
                    surgeon_id=draw(st.sampled_from(SURGEONS)),
                    start=start,
                    end=start + dt.timedelta(minutes=draw(st.integers(5, longest))),
                )
            )
        return found

    rules = SlotRules(
        duration=dt.timedelta(minutes=draw(st.sampled_from([15, 20, 30, 45, 60]))),
        buffer=dt.timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
        grid=dt.timedelta(minutes=draw(st.sampled_from([5, 15, 30]))),
        min_notice=dt.timedelta(hours=draw(st.sampled_from([0, 2, 24]))),
        tier_rank=draw(st.sampled_from([None, 10, 20])),
    )
    start = anchor + dt.timedelta(hours=draw(st.integers(-24, 24)))
    return {
        "calendar": Calendar(
            timezones=timezones,
            blocks=blocks,
            hours=hours,
            closures=closures,
            time_off=intervals(draw(st.integers(0, 2)), 1440),
            busy=intervals(draw(st.integers(0, 6)), 90),
        ),
        "rules": rules,
        "start": start,
        "end": start + dt.timedelta(hours=draw(st.integers(6, 72))),
        "now": anchor + dt.timedelta(minutes=draw(st.integers(-3 * 1440, 1440))),
    }


def overlaps(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime) -> bool:
    return a_start < b_end and b_start < a_end


def at(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(dt.UTC)


def oracle(scenario: dict) -> set[tuple[int, int, dt.datetime, str | None]]:
    """Slot by slot, rule by rule, straight from the issue's definition."""
    calendar: Calendar = scenario["calendar"]
    rules: SlotRules = scenario["rules"]
    start, end, now = scenario["start"], scenario["end"], scenario["now"]
    found: dict[tuple[int, int, dt.datetime], str | None] = {}
    for block in calendar.blocks:
        tz = ZoneInfo(calendar.timezones[block.location_id])
        day = start.astimezone(tz).date() - dt.timedelta(days=1)
        while day <= end.astimezone(tz).date() + dt.timedelta(days=1):
            if block.applies_on(day):
                block_start, block_end = at(day, block.start, tz), at(day, block.end, tz)
                cursor = block_start
                while cursor + rules.needed <= block_end:
                    busy_end = cursor + rules.needed
                    if (
                        start <= cursor < end
                        and cursor >= now + rules.min_notice
                        and any(
                            at(day, h.opens, tz) <= cursor and busy_end <= at(day, h.closes, tz)
                            for h in calendar.hours
                            if h.location_id == block.location_id and h.weekday == day.weekday()
                        )
                        and not any(
                            c.location_id == block.location_id
                            and c.start_date <= day <= c.end_date
                            and (
                                c.whole_day
                                or overlaps(
                                    cursor, busy_end, at(day, c.start_time, tz), at(day, c.end_time, tz)
                                )  # type: ignore[arg-type]
                            )
                            for c in calendar.closures
                        )
                        and not any(
                            i.surgeon_id == block.surgeon_id and overlaps(cursor, busy_end, i.start, i.end)
                            for i in [*calendar.time_off, *calendar.busy]
                        )
                    ):
                        held = block.reserved_tier_code is not None and now < cursor - dt.timedelta(
                            hours=block.release_hours_before
                        )
                        may_use = not held or (
                            rules.tier_rank is not None and rules.tier_rank >= (block.reserved_tier_rank or 0)
                        )
                        key = (block.surgeon_id, block.location_id, cursor)
                        if may_use and key not in found:
                            found[key] = block.reserved_tier_code if held else None
                    cursor += rules.grid
            day += dt.timedelta(days=1)
    return {(*key, tier) for key, tier in found.items()}


def run(scenario: dict) -> list[Slot]:
    return free_slots(
        scenario["calendar"],
        scenario["rules"],
        start=scenario["start"],
        end=scenario["end"],
        now=scenario["now"],
    )


# Modest budgets keep the suite fast; the oracle comparison carries the most weight.
ORACLE_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROPERTY_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ORACLE_SETTINGS
@given(scenarios())
def test_every_slot_obeys_every_rule_and_none_is_missing(scenario: dict) -> None:
    slots = run(scenario)
    got = {(slot.surgeon_id, slot.location_id, slot.start, slot.reserved_for_tier) for slot in slots}
    assert got == oracle(scenario)


@PROPERTY_SETTINGS
@given(scenarios())
def test_no_slot_overlaps_a_visit_or_time_off_with_buffers(scenario: dict) -> None:
    calendar: Calendar = scenario["calendar"]
    needed = scenario["rules"].needed
    for slot in run(scenario):
        for interval in [*calendar.busy, *calendar.time_off]:
            if interval.surgeon_id == slot.surgeon_id:
                assert not overlaps(slot.start, slot.start + needed, interval.start, interval.end)


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_is_on_the_grid_of_a_block_that_holds_it(scenario: dict) -> None:
    calendar: Calendar = scenario["calendar"]
    rules: SlotRules = scenario["rules"]
    for slot in run(scenario):
        tz = ZoneInfo(slot.timezone)
        day = slot.start.astimezone(tz).date()
        assert any(
            block.surgeon_id == slot.surgeon_id
            and block.location_id == slot.location_id
            and block.applies_on(day)
            and at(day, block.start, tz) <= slot.start
            and slot.start + rules.needed <= at(day, block.end, tz)
            and (slot.start - at(day, block.start, tz)) % rules.grid == dt.timedelta(0)
            for block in calendar.blocks
        )


@PROPERTY_SETTINGS
@given(scenarios())
def test_a_held_slot_never_reaches_a_lower_tier_before_release(scenario: dict) -> None:
    rules: SlotRules = scenario["rules"]
    for slot in run(scenario):
        if slot.reserved_for_tier is not None:
            assert rules.tier_rank is not None and rules.tier_rank >= TIER_RANKS[slot.reserved_for_tier]


@PROPERTY_SETTINGS
@given(scenarios())
def test_slots_are_ordered_and_unique(scenario: dict) -> None:
    slots = run(scenario)
    keys = [(slot.start, slot.surgeon_id, slot.location_id) for slot in slots]
    assert keys == sorted(set(keys))


@PROPERTY_SETTINGS
@given(scenarios(), st.integers(1, 8))
def test_a_limited_search_returns_the_first_slots_of_the_full_search(scenario: dict, limit: int) -> None:
    limited = free_slots(
        scenario["calendar"],
        scenario["rules"],
        start=scenario["start"],
        end=scenario["end"],
        now=scenario["now"],
        limit=limit,
    )
    assert limited == run(scenario)[:limit]


@PROPERTY_SETTINGS
@given(scenarios())
def test_a_visit_booked_into_any_free_slot_is_never_reported_as_a_conflict(scenario: dict) -> None:
    calendar: Calendar = scenario["calendar"]
    for slot in run(scenario):
        reason = conflict_reason(
            calendar, surgeon_id=slot.surgeon_id, location_id=slot.location_id, start=slot.start, end=slot.end
        )
        assert reason is None
