"""GET /api/v1/slots/ and /api/v1/slots/earliest/: what a scheduler on the phone sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from locations.models import Block, Location
from practice.models import AppointmentType
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    LocationFactory,
    OpeningHoursFactory,
    tier,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2027, 2, 26, 18, 0, tzinfo=dt.UTC)  # Friday 26 February, noon in Chicago
MONDAY = dt.date(2027, 3, 1)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def clinic() -> Location:
    location = LocationFactory(timezone="America/Chicago")
    for weekday in range(7):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
    return location


@pytest.fixture
def visit() -> AppointmentType:
    return AppointmentTypeFactory(code="follow-up", duration_minutes=30)


@pytest.fixture
def block(clinic: Location) -> Block:
    return BlockFactory(location=clinic, weekday=0, start=dt.time(8), end=dt.time(9))


def search(client: APIClient, **params: object) -> object:
    return client.get(
        "/api/v1/slots/",
        {"appointment_type": "follow-up", "start": "2027-03-01", "end": "2027-03-01", **params},
    )


def test_a_scheduler_sees_free_slots_in_the_locations_own_offset(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    response = search(scheduler_client)
    assert response.status_code == 200, response.json()
    assert response.json() == [
        {
            "surgeon": block.surgeon_id,
            "location": block.location_id,
            "start": f"2027-03-01T08:{minute:02d}:00-06:00",
            "end": (
                dt.datetime(2027, 3, 1, 8, minute, tzinfo=CHICAGO) + dt.timedelta(minutes=30)
            ).isoformat(),
            "reserved_for_tier": None,
        }
        for minute in (0, 15, 30)
    ]


def test_a_booked_time_is_not_offered(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    AppointmentFactory(
        surgeon=block.surgeon,
        location=block.location,
        appointment_type=visit,
        start=dt.datetime(2027, 3, 1, 8, 0, tzinfo=CHICAGO),
    )
    starts = [slot["start"] for slot in search(scheduler_client).json()]
    assert starts == ["2027-03-01T08:30:00-06:00"]


def test_instants_with_offsets_bound_the_search(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    response = search(scheduler_client, start="2027-03-01T14:10:00Z", end="2027-03-01T14:30:00+00:00")
    assert [slot["start"] for slot in response.json()] == ["2027-03-01T08:15:00-06:00"]


def test_an_unencoded_plus_in_the_offset_is_still_understood(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    response = scheduler_client.get(
        "/api/v1/slots/?appointment_type=follow-up&start=2027-03-01T08:00:00-06:00&end=2027-03-01T15:00:00+00:00"
    )
    assert response.status_code == 200
    assert len(response.json()) == 3


def test_the_surgeon_and_location_filters_narrow_the_search(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    other = BlockFactory(
        location=LocationFactory(timezone="America/Chicago"), weekday=0, start=dt.time(8), end=dt.time(9)
    )
    OpeningHoursFactory(location=other.location, weekday=0)
    assert {slot["surgeon"] for slot in search(scheduler_client).json()} == {
        block.surgeon_id,
        other.surgeon_id,
    }
    assert {slot["surgeon"] for slot in search(scheduler_client, surgeon=other.surgeon_id).json()} == {
        other.surgeon_id
    }
    assert {slot["location"] for slot in search(scheduler_client, location=block.location_id).json()} == {
        block.location_id
    }


def test_a_standard_search_never_sees_a_slot_held_for_urgent(
    scheduler_client: APIClient, clinic: Location, visit: AppointmentType
) -> None:
    BlockFactory(
        location=clinic, weekday=0, start=dt.time(8), end=dt.time(9), reserved_for_tier=tier("urgent")
    )
    assert search(scheduler_client, tier="standard").json() == []
    assert search(scheduler_client).json() == []
    urgent = search(scheduler_client, tier="urgent").json()
    assert len(urgent) == 3 and {slot["reserved_for_tier"] for slot in urgent} == {"urgent"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"appointment_type": "no-such-type"}, "appointment_type"),
        ({"tier": "no-such-tier"}, "tier"),
        ({"start": "2027-03-02", "end": "2027-03-01"}, "end"),
        ({"start": "1 March"}, "start"),
        ({"end": "2027-02-30"}, "end"),
        ({"start": "2027-03-01T08:00:00", "end": "2027-03-01T09:00:00"}, "start"),
        ({"start": "2027-03-01", "end": "2027-05-02"}, "end"),
        ({"start": "2027-03-01", "end": "2027-03-01T09:00:00Z"}, "end"),
        ({"surgeon": "999999"}, "surgeon"),
        ({"location": "abc"}, "location"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),
        ({"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T01:00:00Z"}, "start"),
        ({"appointment_type": "follow\x00up"}, "appointment_type"),
        ({"tier": "\x00"}, "tier"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(
    scheduler_client: APIClient, block: Block, visit: AppointmentType, params: dict[str, str], field: str
) -> None:
    response = search(scheduler_client, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_a_missing_parameter_is_a_400_naming_it(scheduler_client: APIClient, visit: AppointmentType) -> None:
    response = scheduler_client.get(
        "/api/v1/slots/", {"appointment_type": "follow-up", "start": "2027-03-01"}
    )
    assert response.status_code == 400
    assert "end" in response.json()["error"]["fields"]


def test_a_range_of_exactly_62_days_is_allowed(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    assert search(scheduler_client, end="2027-05-01").status_code == 200


def test_an_anonymous_client_may_not_search(
    anonymous_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    assert search(anonymous_client).status_code == 401


def test_a_user_without_a_role_may_not_search(block: Block, visit: AppointmentType) -> None:
    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    assert search(client).status_code == 403


def test_an_administrator_may_search(
    admin_client_api: APIClient, block: Block, visit: AppointmentType
) -> None:
    assert search(admin_client_api).status_code == 200


def earliest(client: APIClient, **params: object) -> object:
    return client.get(
        "/api/v1/slots/earliest/", {"appointment_type": "follow-up", "tier": "urgent", **params}
    )


def test_the_earliest_slots_come_inside_the_window_when_there_are_some(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    body = earliest(scheduler_client, limit=2).json()
    assert body["tier"] == "urgent"
    assert body["window_ends"] == "2027-03-02T00:00:00-06:00"  # Friday + 3 days, end of Monday
    assert body["within_window"] is True
    assert [(slot["start"], slot["within_window"]) for slot in body["slots"]] == [
        ("2027-03-01T08:00:00-06:00", True),
        ("2027-03-01T08:15:00-06:00", True),
    ]


def test_with_no_slot_in_the_window_it_says_so_and_lists_the_earliest_after(
    scheduler_client: APIClient, clinic: Location, visit: AppointmentType
) -> None:
    BlockFactory(location=clinic, weekday=2, start=dt.time(8), end=dt.time(9))  # Wednesdays only
    body = earliest(scheduler_client).json()
    assert body["within_window"] is False
    assert "No slot inside the urgent window" in body["message"]
    assert [slot["start"] for slot in body["slots"]][:4] == [
        "2027-03-03T08:00:00-06:00",
        "2027-03-03T08:15:00-06:00",
        "2027-03-03T08:30:00-06:00",
        "2027-03-10T08:00:00-06:00",
    ]
    assert not any(slot["within_window"] for slot in body["slots"])


def test_the_earliest_search_needs_a_known_tier(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    response = scheduler_client.get("/api/v1/slots/earliest/", {"appointment_type": "follow-up"})
    assert response.status_code == 400
    assert "tier" in response.json()["error"]["fields"]
    assert "tier" in earliest(scheduler_client, tier="vip").json()["error"]["fields"]


def test_the_earliest_limit_is_bounded(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    assert "limit" in earliest(scheduler_client, limit=0).json()["error"]["fields"]
    assert "limit" in earliest(scheduler_client, limit="many").json()["error"]["fields"]


def test_an_anonymous_client_may_not_ask_for_the_earliest(anonymous_client: APIClient) -> None:
    assert earliest(anonymous_client).status_code == 401


def test_dates_mean_each_locations_own_local_days(
    scheduler_client: APIClient, visit: AppointmentType
) -> None:
    """Honolulu is UTC-10 and Kiritimati UTC+14: their Monday evenings and Monday mornings are
    Tuesday and Sunday in UTC, and still belong to a search for Monday."""
    shapes = {"Pacific/Honolulu": dt.time(20), "Pacific/Kiritimati": dt.time(0)}
    for zone_name, begins in shapes.items():
        location = LocationFactory(timezone=zone_name)
        for weekday in range(7):
            OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(0), closes=dt.time(23, 30))
            BlockFactory(location=location, weekday=weekday, start=begins, end=dt.time(begins.hour, 30))
    starts = [slot["start"] for slot in search(scheduler_client).json()]
    assert starts == ["2027-03-01T00:00:00+14:00", "2027-03-01T20:00:00-10:00"]


def test_an_inactive_location_offers_no_slots(
    scheduler_client: APIClient, block: Block, visit: AppointmentType
) -> None:
    Location.objects.filter(id=block.location_id).update(is_active=False)
    assert search(scheduler_client).json() == []


def test_with_no_slot_at_all_the_answer_says_so_and_still_names_the_window(
    scheduler_client: APIClient, clinic: Location, visit: AppointmentType
) -> None:
    body = earliest(scheduler_client).json()
    assert body["slots"] == [] and body["within_window"] is False
    assert body["message"] == "No slot found in the next year."
    assert body["window_ends"] == "2027-03-02T00:00:00-06:00"
