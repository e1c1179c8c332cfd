"""The calendar loader has two paths for slot search and booking's check: one round trip of raw SQL
on PostgreSQL, and the portable ORM one that the embedded SQLite default uses. The suite runs on
PostgreSQL, so this holds the ORM path to the same calendar and the same answers on the same data,
lest `make run` drift from production. It also holds the conflict check to the availability slot
search reads."""

from __future__ import annotations

import datetime as dt

import pytest

from booking import selectors
from booking.availability import Calendar, SurgeonInterval
from booking.models import AppointmentStatus
from booking.selectors import calendar
from locations.models import Location, TimeOff
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    ClosureFactory,
    HoldFactory,
    LocationFactory,
    OpeningHoursFactory,
    SurgeonFactory,
    TimeOffFactory,
    tier,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
# Three weeks across the US spring-forward (2027-03-14), in Chicago and beside it in Phoenix.
START = dt.datetime(2027, 3, 4, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2027, 3, 25, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def practice() -> dict[str, list[int]]:
    chicago = LocationFactory(timezone="America/Chicago")
    phoenix = LocationFactory(timezone="America/Phoenix")
    for location in (chicago, phoenix):
        for weekday in range(5):
            OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(12))
            OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(13), closes=dt.time(17))
    ada, ben, cy = SurgeonFactory(), SurgeonFactory(), SurgeonFactory()
    for weekday in range(5):
        BlockFactory(surgeon=ada, location=chicago, weekday=weekday, start=dt.time(8), end=dt.time(16, 30))
    BlockFactory(surgeon=ben, location=chicago, weekday=1, start=dt.time(9), end=dt.time(12))
    BlockFactory(surgeon=ben, location=phoenix, weekday=3, start=dt.time(7), end=dt.time(17))
    BlockFactory(
        surgeon=cy,
        location=phoenix,
        weekday=2,
        start=dt.time(8),
        end=dt.time(12),
        reserved_for_tier=tier("urgent"),
        release_hours_before=48,
    )
    BlockFactory(
        surgeon=cy,
        location=chicago,
        weekday=4,
        start=dt.time(8),
        end=dt.time(11),
        valid_from=dt.date(2027, 3, 10),
        valid_until=dt.date(2027, 3, 19),
    )
    ClosureFactory(
        location=chicago, start_date=dt.date(2027, 3, 8), end_date=dt.date(2027, 3, 8), reason="Snow"
    )
    ClosureFactory(
        location=phoenix,
        start_date=dt.date(2027, 3, 10),
        end_date=dt.date(2027, 3, 17),
        start_time=dt.time(10),
        end_time=dt.time(11),
        reason="Staff meeting",
    )
    TimeOffFactory(
        surgeon=ada,
        start=dt.datetime(2027, 3, 16, 15, tzinfo=dt.UTC),
        end=dt.datetime(2027, 3, 18, 2, tzinfo=dt.UTC),
    )
    buffered = AppointmentTypeFactory(code="imaging-review", duration_minutes=30, buffer_minutes=15)
    AppointmentFactory(
        surgeon=ada,
        location=chicago,
        appointment_type=buffered,
        start=dt.datetime(2027, 3, 15, 14, 0, tzinfo=dt.UTC),
    )
    AppointmentFactory(surgeon=ben, location=phoenix, start=dt.datetime(2027, 3, 11, 17, 0, tzinfo=dt.UTC))
    AppointmentFactory(
        surgeon=ada,
        location=chicago,
        status=AppointmentStatus.CANCELLED,
        start=dt.datetime(2027, 3, 22, 15, 0, tzinfo=dt.UTC),
    )
    moving = AppointmentFactory(
        surgeon=ada, location=chicago, start=dt.datetime(2027, 3, 23, 15, 0, tzinfo=dt.UTC)
    )
    # A hold keeps its time until it expires; an expired one keeps nothing, though not yet deleted.
    HoldFactory(surgeon=ben, location=chicago, start=dt.datetime(2027, 3, 9, 16, 0, tzinfo=dt.UTC))
    HoldFactory(
        surgeon=ada,
        location=chicago,
        start=dt.datetime(2027, 3, 10, 15, 0, tzinfo=dt.UTC),
        expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    return {"surgeons": [ada.pk, ben.pk, cy.pk], "locations": [chicago.pk, phoenix.pk], "moving": [moving.pk]}


def both_loaders(monkeypatch: pytest.MonkeyPatch, **search: object) -> tuple[list, list]:  # type: ignore[type-arg]
    postgresql = selectors.slots_free(**search)  # type: ignore[arg-type]
    with monkeypatch.context() as patch:
        patch.setattr(calendar, "_calendar_postgresql", calendar._calendar_orm)
        portable = selectors.slots_free(**search)  # type: ignore[arg-type]
    return postgresql, portable


@pytest.mark.parametrize("tier_code", [None, "standard", "urgent"])
@pytest.mark.parametrize("scope", ["everyone", "one surgeon", "one location", "excluding a visit"])
def test_both_loaders_offer_the_same_slots(
    practice: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch, tier_code: str | None, scope: str
) -> None:
    search: dict[str, object] = {
        "appointment_type": AppointmentTypeFactory(code="post-op", duration_minutes=20),
        "start": START,
        "end": END,
        "tier": tier(tier_code) if tier_code else None,
        "now": NOW,
    }
    if scope == "one surgeon":
        search["surgeon_ids"] = practice["surgeons"][:1]
    elif scope == "one location":
        search["location_ids"] = practice["locations"][1:]
    elif scope == "excluding a visit":
        search["exclude_appointment_id"] = practice["moving"][0]
    postgresql, portable = both_loaders(monkeypatch, **search)
    assert len(postgresql) > 50  # a search with something to disagree about
    assert postgresql == portable


def contents(loaded: Calendar) -> dict[str, object]:
    """What a calendar holds, whatever order its rows came in."""
    return {
        "timezones": loaded.timezones,
        "blocks": sorted(loaded.blocks, key=repr),
        "hours": sorted(loaded.hours, key=repr),
        "closures": sorted(loaded.closures, key=repr),
        "time_off": sorted(loaded.time_off),
        "busy": sorted(loaded.busy),
    }


@pytest.mark.postgresql  # calls the PostgreSQL loader's SQL directly
@pytest.mark.parametrize(
    "scope", ["everyone", "one surgeon", "one location", "excluding a visit", "one slot check", "nobody"]
)
def test_both_loaders_read_the_same_calendar(practice: dict[str, list[int]], scope: str) -> None:
    load: dict[str, object] = {
        "start": START,
        "end": END,
        "surgeon_ids": None,
        "location_ids": None,
        "exclude_appointment_id": None,
    }
    if scope == "one surgeon":
        load["surgeon_ids"] = practice["surgeons"][:1]
    elif scope == "one location":
        load["location_ids"] = practice["locations"][1:]
    elif scope == "excluding a visit":
        load["exclude_appointment_id"] = practice["moving"][0]
    elif scope == "one slot check":  # what booking asks: one surgeon, one location, one instant
        start = dt.datetime(2027, 3, 15, 15, 0, tzinfo=dt.UTC)
        load.update(
            start=start,
            end=start + dt.timedelta(microseconds=1),
            surgeon_ids=practice["surgeons"][:1],
            location_ids=practice["locations"][:1],
        )
    elif scope == "nobody":
        load["surgeon_ids"] = [max(practice["surgeons"]) + 1]
    postgresql = contents(calendar._calendar_postgresql(**load))  # type: ignore[arg-type]
    portable = contents(calendar._calendar_orm(**load))  # type: ignore[arg-type]
    assert postgresql == portable
    assert bool(postgresql["blocks"]) == (scope != "nobody")  # a calendar with something to disagree about


def test_the_conflict_check_reads_the_availability_slot_search_reads(practice: dict[str, list[int]]) -> None:
    surgeons, locations = practice["surgeons"], practice["locations"]
    zones = dict(Location.objects.filter(id__in=locations).values_list("id", "timezone"))
    scope = {"start": START, "end": END, "surgeon_ids": surgeons, "location_ids": locations}
    for_slots = contents(calendar.calendar_for_slots(**scope))  # type: ignore[arg-type]
    for_conflicts = contents(calendar.calendar_for_conflicts(**scope, timezones=zones))  # type: ignore[arg-type]
    for part in ("timezones", "blocks", "hours", "closures"):
        assert for_conflicts[part] == for_slots[part]
    # Time off on its own (a visit in it has its own reason), and no busy visits: other visits are
    # no conflict. Slot search reads both as one list.
    time_off = sorted(SurgeonInterval(row.surgeon_id, row.start, row.end) for row in TimeOff.objects.all())
    assert for_conflicts["time_off"] == time_off
    assert for_conflicts["busy"] == []
    assert set(time_off) < set(for_slots["busy"])  # type: ignore[call-overload]
