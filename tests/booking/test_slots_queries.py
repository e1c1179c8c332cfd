"""Query budgets: slot search loads a whole range for every surgeon and location in a fixed number
of queries, so the count does not grow with surgeons, locations or days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from booking.selectors import appointment_conflicts, slot_is_free, slots_earliest, slots_free
from locations.models import Location
from practice.models import AppointmentType
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    ClosureFactory,
    LocationFactory,
    OpeningHoursFactory,
    SurgeonFactory,
    TimeOffFactory,
    tier,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 2, 26, 18, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2027, 3, 1)
SELECTOR_QUERIES = 4  # blocks (with zones and tiers), hours, closures, time off with busy visits
# PostgreSQL gets the four loads in one round trip.
ROUND_TRIPS = 1 if connection.vendor == "postgresql" else SELECTOR_QUERIES
SEARCH_API_QUERIES = 7  # the selector's, the role check, the type and the tier
CONFLICT_QUERIES = 6  # visits with their zones, blocks, hours, closures, time off, the conflicting visits


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def practice(*, surgeons: int, locations: int, days: int) -> AppointmentType:
    """`surgeons` at each of `locations`, working every weekday, each with visits, time off and closures."""
    visit = AppointmentTypeFactory(code="follow-up", duration_minutes=30)
    for index in range(locations):
        location = LocationFactory(
            timezone=["America/Chicago", "America/Phoenix", "America/New_York"][index % 3]
        )
        for weekday in range(7):
            OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
        ClosureFactory(
            location=location,
            start_date=MONDAY + dt.timedelta(days=2),
            end_date=MONDAY + dt.timedelta(days=2),
        )
        for _ in range(surgeons):
            surgeon = SurgeonFactory()
            TimeOffFactory(
                surgeon=surgeon,
                start=dt.datetime(2027, 3, 2, 14, tzinfo=dt.UTC),
                end=dt.datetime(2027, 3, 2, 18, tzinfo=dt.UTC),
            )
            for weekday in range(7):
                BlockFactory(
                    surgeon=surgeon, location=location, weekday=weekday, start=dt.time(8), end=dt.time(16)
                )
            for day in range(days):
                AppointmentFactory(
                    surgeon=surgeon,
                    location=location,
                    appointment_type=visit,
                    start=dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(19), tzinfo=dt.UTC),
                )
    return visit


SIZES = [
    pytest.param({"surgeons": 1, "locations": 1, "days": 1}, id="one-surgeon-one-day"),
    pytest.param({"surgeons": 4, "locations": 3, "days": 20}, id="twelve-surgeons-twenty-days"),
]


def search_range(days: int) -> dict[str, dt.datetime]:
    start = dt.datetime.combine(MONDAY, dt.time(0), tzinfo=dt.UTC)
    return {"start": start, "end": start + dt.timedelta(days=days)}


@pytest.mark.parametrize("size", SIZES)
def test_searching_takes_a_fixed_number_of_queries(
    size: dict[str, int], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    visit, standard = practice(**size), tier()
    with django_assert_max_num_queries(SELECTOR_QUERIES):
        slots = slots_free(appointment_type=visit, tier=standard, **search_range(size["days"]))
    assert slots


@pytest.mark.parametrize("size", SIZES)
def test_a_search_and_a_slot_check_each_take_one_round_trip_on_postgresql(
    size: dict[str, int], django_assert_num_queries: Callable[..., Any]
) -> None:
    visit, standard = practice(**size), tier()
    with django_assert_num_queries(ROUND_TRIPS):
        slots = slots_free(appointment_type=visit, tier=standard, **search_range(size["days"]))
    slot = slots[len(slots) // 2]
    with django_assert_num_queries(ROUND_TRIPS):
        assert slot_is_free(
            appointment_type=visit,
            tier=standard,
            surgeon_id=slot.surgeon_id,
            location_id=slot.location_id,
            start=slot.start,
        )


@pytest.mark.parametrize("size", SIZES)
def test_the_search_api_takes_a_fixed_number_of_queries(
    size: dict[str, int], scheduler_client: APIClient, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    practice(**size)
    last = MONDAY + dt.timedelta(days=size["days"] - 1)
    with django_assert_max_num_queries(SEARCH_API_QUERIES):
        response = scheduler_client.get(
            "/api/v1/slots/",
            {
                "appointment_type": "follow-up",
                "tier": "standard",
                "start": MONDAY.isoformat(),
                "end": last.isoformat(),
            },
        )
    assert response.status_code == 200 and response.json()


@pytest.mark.parametrize("size", SIZES)
def test_the_earliest_search_is_bounded_by_its_few_widening_steps(
    size: dict[str, int], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    visit, urgent = practice(**size), tier("urgent")
    with django_assert_max_num_queries(2 * SELECTOR_QUERIES):
        slots = slots_earliest(appointment_type=visit, tier=urgent, limit=5)
    assert len(slots) == 5


@pytest.mark.parametrize("size", SIZES)
def test_finding_conflicts_takes_a_fixed_number_of_queries(
    size: dict[str, int], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    practice(**size)
    for location in Location.objects.all():  # the Monday visits now fall in a closure
        ClosureFactory(location=location, start_date=MONDAY, end_date=MONDAY)
    with django_assert_max_num_queries(CONFLICT_QUERIES):
        conflicts = appointment_conflicts()
    assert conflicts
