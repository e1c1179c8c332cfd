"""DST: blocks keep their local wall-clock times across a change, in Chicago (which changes) beside
Phoenix (which does not), and a day with a skipped or repeated hour has no duplicated or
missing slots."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.availability import BlockSpec, Calendar, HoursSpec, SlotRules, free_slots
from locations.models import Location
from tests.factories import AppointmentTypeFactory, BlockFactory, LocationFactory, OpeningHoursFactory

pytestmark = pytest.mark.django_db

SPRING_FORWARD = dt.date(2027, 3, 14)  # a Sunday: 02:00 CST becomes 03:00 CDT in Chicago
FALL_BACK = dt.date(2027, 11, 7)  # a Sunday: 02:00 CDT becomes 01:00 CST in Chicago


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(dt.datetime(2027, 2, 1, tzinfo=dt.UTC), tick=False):
        yield


def clinic(zone: str) -> Location:
    location = LocationFactory(timezone=zone)
    for weekday in range(7):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(7), closes=dt.time(18))
    # Saturday, Sunday and Monday mornings around each change.
    for weekday in (5, 6, 0):
        BlockFactory(location=location, weekday=weekday, start=dt.time(8), end=dt.time(9))
    return location


@pytest.fixture
def two_clinics() -> tuple[Location, Location]:
    AppointmentTypeFactory(code="follow-up", duration_minutes=30)
    return clinic("America/Chicago"), clinic("America/Phoenix")


def local_starts(client: APIClient, location: Location, first: dt.date, last: dt.date) -> list[str]:
    response = client.get(
        "/api/v1/slots/",
        {
            "appointment_type": "follow-up",
            "start": first.isoformat(),
            "end": last.isoformat(),
            "location": location.id,
        },
    )
    assert response.status_code == 200
    return [slot["start"] for slot in response.json()]


@pytest.mark.parametrize("change", [SPRING_FORWARD, FALL_BACK])
def test_a_block_at_eight_starts_at_eight_local_on_both_sides_of_the_change(
    scheduler_client: APIClient, two_clinics: tuple[Location, Location], change: dt.date
) -> None:
    chicago, phoenix = two_clinics
    saturday, monday = change - dt.timedelta(days=1), change + dt.timedelta(days=1)
    for location in (chicago, phoenix):
        starts = local_starts(scheduler_client, location, saturday, monday)
        assert [start[11:19] for start in starts] == ["08:00:00", "08:15:00", "08:30:00"] * 3
        assert [start[:10] for start in starts[::3]] == [
            saturday.isoformat(),
            change.isoformat(),
            monday.isoformat(),
        ]


def test_chicagos_offset_changes_with_the_clocks_and_phoenixs_does_not(
    scheduler_client: APIClient, two_clinics: tuple[Location, Location]
) -> None:
    chicago, phoenix = two_clinics
    spring = local_starts(scheduler_client, chicago, SPRING_FORWARD - dt.timedelta(days=1), SPRING_FORWARD)
    assert (spring[0][-6:], spring[-1][-6:]) == ("-06:00", "-05:00")
    autumn = local_starts(scheduler_client, chicago, FALL_BACK - dt.timedelta(days=1), FALL_BACK)
    assert (autumn[0][-6:], autumn[-1][-6:]) == ("-05:00", "-06:00")
    phoenix_starts = local_starts(
        scheduler_client, phoenix, SPRING_FORWARD - dt.timedelta(days=1), SPRING_FORWARD
    )
    assert {start[-6:] for start in phoenix_starts} == {"-07:00"}


def night_block_slots(day: dt.date, zone: str) -> list[dt.datetime]:
    """A block across the change, 00:00 to 04:00 local, in the pure engine."""
    calendar = Calendar(
        timezones={1: zone},
        blocks=[
            BlockSpec(
                surgeon_id=1,
                location_id=1,
                weekday=day.weekday(),
                start=dt.time(0),
                end=dt.time(4),
                valid_from=day,
            )
        ],
        hours=[HoursSpec(location_id=1, weekday=day.weekday(), opens=dt.time(0), closes=dt.time(23))],
    )
    rules = SlotRules(
        duration=dt.timedelta(minutes=30),
        buffer=dt.timedelta(0),
        grid=dt.timedelta(minutes=30),
        min_notice=dt.timedelta(0),
    )
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    return [
        slot.start
        for slot in free_slots(
            calendar, rules, start=start, end=start + dt.timedelta(days=3), now=start - dt.timedelta(days=9)
        )
    ]


def test_the_skipped_hour_has_no_slots_and_no_others_go_missing() -> None:
    starts = night_block_slots(SPRING_FORWARD, "America/Chicago")
    # 00:00 to 04:00 local is three real hours that day: six half-hour slots, none at 02:xx.
    assert len(starts) == len(set(starts)) == 6
    assert all(b - a == dt.timedelta(minutes=30) for a, b in itertools.pairwise(starts))
    local_hours = [start.astimezone(dt.timezone(dt.timedelta(hours=-6))).hour for start in starts[:4]]
    assert local_hours == [0, 0, 1, 1]


def test_the_repeated_hour_is_offered_once_each_time_it_happens_without_duplicates() -> None:
    starts = night_block_slots(FALL_BACK, "America/Chicago")
    # 00:00 to 04:00 local is five real hours that day: ten distinct half-hour slots.
    assert len(starts) == len(set(starts)) == 10
    assert all(b - a == dt.timedelta(minutes=30) for a, b in itertools.pairwise(starts))


def test_phoenix_has_an_ordinary_night_on_the_same_days() -> None:
    assert len(night_block_slots(SPRING_FORWARD, "America/Phoenix")) == 8
    assert len(night_block_slots(FALL_BACK, "America/Phoenix")) == 8
