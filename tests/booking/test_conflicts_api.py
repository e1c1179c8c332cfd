"""Visits that no longer fit availability: the selector other features call, and GET /api/v1/conflicts/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus
from booking.selectors import appointment_conflicts
from locations.models import Block
from locations.serializers import AppointmentConflictSerializer
from locations.visits import (
    CONFLICT_CLOSURE,
    CONFLICT_INACTIVE,
    CONFLICT_OUTSIDE_BLOCKS,
    CONFLICT_OUTSIDE_HOURS,
    CONFLICT_TIME_OFF,
)
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    ClosureFactory,
    LocationFactory,
    OpeningHoursFactory,
    TimeOffFactory,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2027, 2, 26, 18, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2027, 3, 1)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def block() -> Block:
    location = LocationFactory(timezone="America/Chicago")
    OpeningHoursFactory(location=location, weekday=0, opens=dt.time(8), closes=dt.time(17))
    return BlockFactory(location=location, weekday=0, start=dt.time(8), end=dt.time(12))


def visit_at(
    block: Block, hour: int, minute: int = 0, day: dt.date = MONDAY, **kwargs: object
) -> Appointment:
    return AppointmentFactory(
        surgeon=block.surgeon,
        location=block.location,
        appointment_type=AppointmentTypeFactory(code="follow-up", duration_minutes=30),
        start=dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO),
        **kwargs,
    )


def reasons(**filters: int) -> dict[int, str]:
    return {conflict.appointment.id: conflict.reason for conflict in appointment_conflicts(**filters)}


def test_a_visit_inside_its_block_is_no_conflict(block: Block) -> None:
    visit_at(block, 9)
    assert reasons() == {}


@pytest.mark.parametrize("deactivated", ["surgeon", "location"])
def test_a_visit_with_a_deactivated_surgeon_or_location_is_an_inactive_conflict(
    block: Block, deactivated: str, scheduler_client: APIClient
) -> None:
    visit = visit_at(block, 9)
    owner = getattr(block, deactivated)
    owner.is_active = False
    owner.save()
    assert reasons() == {visit.id: CONFLICT_INACTIVE}
    listed = scheduler_client.get("/api/v1/conflicts/").json()["results"]
    assert [(row["id"], row["reason"]) for row in listed] == [(visit.id, CONFLICT_INACTIVE)]


def test_a_visit_on_a_closed_day_is_a_closure_conflict(block: Block) -> None:
    visit = visit_at(block, 9)
    ClosureFactory(location=block.location, start_date=MONDAY, end_date=MONDAY)
    assert reasons() == {visit.id: CONFLICT_CLOSURE}


def test_a_visit_in_a_part_day_closure_is_a_closure_conflict(block: Block) -> None:
    inside, outside = visit_at(block, 9), visit_at(block, 11)
    ClosureFactory(
        location=block.location,
        start_date=MONDAY,
        end_date=MONDAY,
        start_time=dt.time(9),
        end_time=dt.time(10),
    )
    assert reasons() == {inside.id: CONFLICT_CLOSURE}
    assert outside.id not in reasons()


def test_a_visit_in_time_off_is_a_time_off_conflict(block: Block) -> None:
    visit = visit_at(block, 9)
    TimeOffFactory(
        surgeon=block.surgeon,
        start=dt.datetime(2027, 3, 1, 9, 15, tzinfo=CHICAGO),
        end=dt.datetime(2027, 3, 2, tzinfo=CHICAGO),
    )
    assert reasons() == {visit.id: CONFLICT_TIME_OFF}


def test_a_visit_after_hours_shrink_is_outside_hours(block: Block) -> None:
    visit = visit_at(block, 11, 30)
    block.location.hours.update(closes=dt.time(11))
    assert reasons() == {visit.id: CONFLICT_OUTSIDE_HOURS}


def test_a_visit_outside_the_surgeons_blocks_is_outside_blocks(block: Block) -> None:
    visit = visit_at(block, 13)
    assert reasons() == {visit.id: CONFLICT_OUTSIDE_BLOCKS}


def test_a_visit_on_a_closed_day_is_a_closure_conflict_even_with_its_block_gone(block: Block) -> None:
    visit = visit_at(block, 9)
    ClosureFactory(location=block.location, start_date=MONDAY, end_date=MONDAY)
    block.delete()
    assert reasons() == {visit.id: CONFLICT_CLOSURE}


def test_a_visit_after_its_block_ended_is_outside_blocks(block: Block) -> None:
    visit = visit_at(block, 9)
    block.valid_until = MONDAY - dt.timedelta(days=1)
    block.save()
    assert reasons() == {visit.id: CONFLICT_OUTSIDE_BLOCKS}


def test_past_and_cancelled_visits_are_not_reported(block: Block) -> None:
    visit_at(block, 13, status=AppointmentStatus.CANCELLED)
    visit_at(block, 13, day=dt.date(2027, 2, 22))
    assert reasons() == {}


def test_the_selector_filters_by_location_and_surgeon(block: Block) -> None:
    visit = visit_at(block, 13)
    elsewhere = BlockFactory(weekday=0)
    other = visit_at(elsewhere, 13)
    assert reasons(location_id=block.location_id) == {visit.id: CONFLICT_OUTSIDE_BLOCKS}
    assert reasons(surgeon_id=elsewhere.surgeon_id) == {other.id: CONFLICT_OUTSIDE_HOURS}  # no hours there


def test_the_conflict_serializer_names_the_visit_and_the_reason(block: Block) -> None:
    visit = visit_at(block, 13)
    data = AppointmentConflictSerializer(appointment_conflicts()[0]).data
    assert data == {
        "id": visit.id,
        "patient": visit.patient_id,
        "surgeon": block.surgeon_id,
        "location": block.location_id,
        "start": "2027-03-01T19:00:00Z",
        "start_local": "2027-03-01T13:00:00-06:00",
        "end": "2027-03-01T19:30:00Z",
        "status": "booked",
        "reason": CONFLICT_OUTSIDE_BLOCKS,
    }


def test_a_scheduler_lists_conflicts_paginated(scheduler_client: APIClient, block: Block) -> None:
    first, second = visit_at(block, 13), visit_at(block, 14)
    response = scheduler_client.get("/api/v1/conflicts/", {"limit": 1})
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [item["id"] for item in response.json()["results"]] == [first.id]
    assert [item["id"] for item in scheduler_client.get(response.json()["next"]).json()["results"]] == [
        second.id
    ]


def test_the_conflict_list_filters_by_location(scheduler_client: APIClient, block: Block) -> None:
    visit = visit_at(block, 13)
    visit_at(BlockFactory(weekday=0), 13)
    response = scheduler_client.get("/api/v1/conflicts/", {"location": block.location_id})
    assert [item["id"] for item in response.json()["results"]] == [visit.id]


def test_a_conflict_carries_its_start_on_the_locations_clock(
    scheduler_client: APIClient, block: Block
) -> None:
    visit_at(block, 13)  # after the block: 1 p.m. in Chicago, CDT or CST
    (row,) = scheduler_client.get("/api/v1/conflicts/").json()["results"]
    local = dt.datetime.fromisoformat(row["start_local"])
    assert (local.hour, local.minute) == (13, 0)
    assert local.utcoffset() == dt.datetime.combine(MONDAY, dt.time(13), tzinfo=CHICAGO).utcoffset()
    assert local == dt.datetime.fromisoformat(row["start"].replace("Z", "+00:00"))


def test_an_unknown_filter_is_a_400_naming_it(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/conflicts/", {"surgeon": 999999})
    assert response.status_code == 400
    assert "surgeon" in response.json()["error"]["fields"]


def test_an_anonymous_client_may_not_list_conflicts(anonymous_client: APIClient) -> None:
    assert anonymous_client.get("/api/v1/conflicts/").status_code == 401
