"""The week's rules checked against a brute-force reading of them, on generated weeks."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from locations.services.blocks import BlockTimes
from locations.services.hours import Interval, hours_errors

times = st.integers(min_value=0, max_value=23 * 4).map(
    lambda quarter: dt.time(quarter // 4, quarter % 4 * 15)
)
intervals = st.builds(Interval, weekday=st.integers(0, 1), opens=times, closes=times)


@settings(max_examples=150, deadline=None)
@given(st.lists(intervals, max_size=6))
def test_a_week_is_valid_exactly_when_each_interval_is_forward_and_no_two_of_a_day_meet(
    week: list[Interval],
) -> None:
    forward = all(interval.closes > interval.opens for interval in week)
    disjoint = all(
        a.weekday != b.weekday or a.closes <= b.opens or b.closes <= a.opens
        for i, a in enumerate(week)
        for b in week[i + 1 :]
    )
    assert (hours_errors(week) == []) == (forward and disjoint)


dates = st.dates(min_value=dt.date(2027, 1, 1), max_value=dt.date(2027, 12, 31))
blocks = st.builds(
    lambda weekday, a, b, start, length: BlockTimes(
        weekday, min(a, b), max(a, b), start, start + length if length is not None else None
    ),
    weekday=st.integers(0, 1),
    a=times,
    b=times,
    start=dates,
    length=st.none() | st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=200)),
).filter(lambda block: block.end > block.start)  # an empty block is refused before overlaps matter


@settings(max_examples=150, deadline=None)
@given(blocks, blocks)
def test_two_blocks_overlap_exactly_when_they_share_a_weekday_a_minute_and_a_date(
    a: BlockTimes, b: BlockTimes
) -> None:
    def days(block: BlockTimes) -> set[dt.date]:
        last = block.valid_until or dt.date(2029, 1, 1)
        return {block.valid_from + dt.timedelta(days=n) for n in range((last - block.valid_from).days + 1)}

    def minutes(block: BlockTimes) -> set[int]:
        return set(range(block.start.hour * 60 + block.start.minute, block.end.hour * 60 + block.end.minute))

    expected = a.weekday == b.weekday and bool(minutes(a) & minutes(b)) and bool(days(a) & days(b))
    assert a.overlaps(b) == b.overlaps(a) == expected
