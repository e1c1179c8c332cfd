"""The slot selectors other features call: search, one-slot checks, next slots, tier windows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from booking.models import AppointmentStatus
from booking.selectors import slot_is_free, slots_earliest, slots_free, slots_next, tier_window_end
from locations.models import Block, Location
from practice.models import AppointmentType
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    ClosureFactory,
    LocationFactory,
    OpeningHoursFactory,
    TimeOffFactory,
    tier,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = dt.date(2027, 3, 1)  # CST, UTC-6
NOW = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


@pytest.fixture
def clinic() -> Location:
    location = LocationFactory(timezone="America/Chicago")
    for weekday in range(5):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
    return location


@pytest.fixture
def visit() -> AppointmentType:
    return AppointmentTypeFactory(code="follow-up", duration_minutes=30, buffer_minutes=0)


@pytest.fixture
def block(clinic: Location) -> Block:
    return BlockFactory(location=clinic, weekday=0, start=dt.time(8), end=dt.time(10))


def starts(slots: list) -> list[dt.datetime]:
    return [slot.start for slot in slots]


def test_it_offers_every_grid_start_that_fits_the_block(block: Block, visit: AppointmentType) -> None:
    slots = slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW)
    assert starts(slots) == [local(MONDAY, 8, minute) for minute in (0, 15, 30, 45)] + [
        local(MONDAY, 9, minute) for minute in (0, 15, 30)
    ]
    assert {(slot.surgeon_id, slot.location_id) for slot in slots} == {(block.surgeon_id, block.location_id)}
    assert all(slot.end - slot.start == dt.timedelta(minutes=30) for slot in slots)


def test_it_keeps_an_appointment_and_its_buffer_free(block: Block, visit: AppointmentType) -> None:
    buffered = AppointmentTypeFactory(code="imaging", duration_minutes=30, buffer_minutes=15)
    AppointmentFactory(
        surgeon=block.surgeon, location=block.location, appointment_type=buffered, start=local(MONDAY, 8, 30)
    )
    slots = slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW)
    assert starts(slots) == [local(MONDAY, 8, 0), local(MONDAY, 9, 15), local(MONDAY, 9, 30)]


def test_a_cancelled_appointment_frees_its_time(block: Block, visit: AppointmentType) -> None:
    AppointmentFactory(
        surgeon=block.surgeon,
        location=block.location,
        appointment_type=visit,
        start=local(MONDAY, 8),
        status=AppointmentStatus.CANCELLED,
    )
    slots = slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW)
    assert local(MONDAY, 8) in starts(slots)


def test_it_offers_nothing_on_a_whole_day_closure(block: Block, visit: AppointmentType) -> None:
    ClosureFactory(location=block.location, start_date=MONDAY, end_date=MONDAY)
    assert slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW) == []


def test_it_skips_the_hours_of_a_part_day_closure(block: Block, visit: AppointmentType) -> None:
    ClosureFactory(
        location=block.location,
        start_date=MONDAY,
        end_date=MONDAY,
        start_time=dt.time(8),
        end_time=dt.time(9),
    )
    slots = slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW)
    assert starts(slots)[0] == local(MONDAY, 9)


def test_it_skips_the_surgeons_time_off(block: Block, visit: AppointmentType) -> None:
    TimeOffFactory(surgeon=block.surgeon, start=local(MONDAY, 9), end=local(MONDAY, 12))
    slots = slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW)
    assert starts(slots)[-1] == local(MONDAY, 8, 30)


def test_it_offers_only_inside_opening_hours(clinic: Location, visit: AppointmentType) -> None:
    BlockFactory(location=clinic, weekday=0, start=dt.time(7), end=dt.time(9))
    slots = slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW)
    assert starts(slots)[0] == local(MONDAY, 8)


def test_it_respects_the_minimum_notice(block: Block) -> None:
    notice = AppointmentTypeFactory(code="second-opinion", duration_minutes=30, min_notice_hours=2)
    slots = slots_free(
        appointment_type=notice, start=local(MONDAY, 0), end=local(MONDAY, 23), now=local(MONDAY, 6, 10)
    )
    assert starts(slots)[0] == local(MONDAY, 8, 15)


def test_a_block_applies_only_within_its_validity_dates(clinic: Location, visit: AppointmentType) -> None:
    BlockFactory(location=clinic, weekday=0, valid_from=MONDAY + dt.timedelta(days=7))
    assert slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW) == []


def test_a_reserved_block_is_held_from_standard_until_its_release(
    clinic: Location, visit: AppointmentType
) -> None:
    BlockFactory(location=clinic, weekday=0, reserved_for_tier=tier("urgent"), release_hours_before=48)
    window = {"appointment_type": visit, "start": local(MONDAY, 0), "end": local(MONDAY, 23)}
    assert slots_free(**window, tier=tier("standard"), now=NOW) == []
    assert slots_free(**window, tier=None, now=NOW) == []
    urgent = slots_free(**window, tier=tier("urgent"), now=NOW)
    assert urgent and {slot.reserved_for_tier for slot in urgent} == {"urgent"}
    released = slots_free(**window, tier=tier("standard"), now=local(MONDAY, 8) - dt.timedelta(hours=48))
    assert released[0].start == local(MONDAY, 8) and released[0].reserved_for_tier is None


def test_slot_is_free_agrees_with_search(block: Block, visit: AppointmentType) -> None:
    AppointmentFactory(
        surgeon=block.surgeon, location=block.location, appointment_type=visit, start=local(MONDAY, 9)
    )
    kwargs = {
        "appointment_type": visit,
        "tier": tier(),
        "surgeon_id": block.surgeon_id,
        "location_id": block.location_id,
        "now": NOW,
    }
    assert slot_is_free(start=local(MONDAY, 8, 30), **kwargs)
    assert not slot_is_free(start=local(MONDAY, 9), **kwargs)
    assert not slot_is_free(start=local(MONDAY, 8, 10), **kwargs)  # off the grid


def test_slot_is_free_can_ignore_the_visit_being_moved(block: Block, visit: AppointmentType) -> None:
    moving = AppointmentFactory(
        surgeon=block.surgeon, location=block.location, appointment_type=visit, start=local(MONDAY, 9)
    )
    assert slot_is_free(
        appointment_type=visit,
        tier=tier(),
        surgeon_id=block.surgeon_id,
        location_id=block.location_id,
        start=local(MONDAY, 9, 15),
        now=NOW,
        exclude_appointment_id=moving.id,
    )


def test_slots_next_lists_the_following_slots_of_that_surgeon_and_location(
    block: Block, visit: AppointmentType
) -> None:
    BlockFactory(location=block.location, weekday=0)  # another surgeon, same place
    slots = slots_next(
        appointment_type=visit,
        tier=tier(),
        surgeon_id=block.surgeon_id,
        location_id=block.location_id,
        after=local(MONDAY, 9, 20),
        now=NOW,
    )
    assert starts(slots) == [
        local(MONDAY, 9, 30),
        local(MONDAY + dt.timedelta(days=7), 8),
        local(MONDAY + dt.timedelta(days=7), 8, 15),
    ]
    assert {slot.surgeon_id for slot in slots} == {block.surgeon_id}


def test_the_earliest_search_finds_slots_months_ahead(clinic: Location, visit: AppointmentType) -> None:
    BlockFactory(location=clinic, weekday=0, valid_from=dt.date(2027, 6, 7))
    slots = slots_earliest(appointment_type=visit, tier=tier(), now=NOW, limit=2)
    assert starts(slots) == [local(dt.date(2027, 6, 7), 8), local(dt.date(2027, 6, 7), 8, 15)]


def test_the_tier_window_ends_at_the_end_of_the_last_local_day() -> None:
    now = dt.datetime(2027, 3, 1, 3, 0, tzinfo=dt.UTC)  # still 28 February in Chicago
    end = tier_window_end(tier=tier("urgent"), timezone="America/Chicago", now=now)
    assert end == dt.datetime(2027, 3, 4, 0, 0, tzinfo=CHICAGO)


def test_an_inactive_surgeon_is_offered_nowhere(block: Block, visit: AppointmentType) -> None:
    block.surgeon.is_active = False
    block.surgeon.save()
    assert slots_free(appointment_type=visit, start=local(MONDAY, 0), end=local(MONDAY, 23), now=NOW) == []


def test_slot_is_free_honours_a_reservation_like_search(clinic: Location, visit: AppointmentType) -> None:
    held = BlockFactory(location=clinic, weekday=0, reserved_for_tier=tier("urgent"), release_hours_before=48)
    kwargs = {
        "appointment_type": visit,
        "surgeon_id": held.surgeon_id,
        "location_id": held.location_id,
        "start": local(MONDAY, 8),
        "now": NOW,
    }
    assert not slot_is_free(tier=tier("standard"), **kwargs)
    assert slot_is_free(tier=tier("urgent"), **kwargs)
