from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from locations.models import Block, Location
from locations.services.errors import BlockOverlap, InvalidInterval
from tests.factories import BlockFactory, LocationFactory, OpeningHoursFactory, SurgeonFactory

pytestmark = pytest.mark.django_db


def _block(location_id: int, **changes: object) -> dict:
    return {
        "location": location_id,
        "weekday": 0,
        "start": "08:00",
        "end": "12:00",
        "valid_from": "2027-01-01",
        "valid_until": None,
        **changes,
    }


def test_an_administrator_adds_a_block_and_gets_it_back_with_its_id(admin_client_api: APIClient) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory()
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", _block(location.pk))
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == Block.objects.get(surgeon=surgeon).pk
    assert (body["start"], body["end"], body["reserved_for_tier"], body["release_hours_before"]) == (
        "08:00",
        "12:00",
        None,
        48,
    )


def test_a_block_reserved_for_a_tier_names_the_tier_by_code(admin_client_api: APIClient) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory()
    body = _block(location.pk, reserved_for_tier="urgent", release_hours_before=24)
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", body)
    assert response.status_code == 201
    assert response.json()["reserved_for_tier"] == "urgent"
    assert Block.objects.get().reserved_for_tier.code == "urgent"


@pytest.mark.parametrize("code", ["whenever", "urg\x00ent"])
def test_an_unknown_tier_code_is_a_400_naming_reserved_for_tier(
    admin_client_api: APIClient, code: str
) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory()
    body = _block(location.pk, reserved_for_tier=code)
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", body)
    assert response.status_code == 400
    assert "reserved_for_tier" in response.json()["error"]["fields"]


def test_it_refuses_a_block_overlapping_another_location_on_the_same_weekday(
    admin_client_api: APIClient,
) -> None:
    existing = BlockFactory(weekday=2, start="08:00", end="12:00")
    elsewhere = LocationFactory()
    body = _block(elsewhere.pk, weekday=2, start="11:00", end="15:00")
    response = admin_client_api.post(f"/api/v1/surgeons/{existing.surgeon_id}/blocks/", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == BlockOverlap.code
    assert set(response.json()["error"]["fields"]) == {"start", "end"}
    assert Block.objects.count() == 1


def test_blocks_that_touch_do_not_overlap(admin_client_api: APIClient) -> None:
    existing = BlockFactory(weekday=2, start="08:00", end="12:00")
    body = _block(LocationFactory().pk, weekday=2, start="12:00", end="16:00")
    assert admin_client_api.post(f"/api/v1/surgeons/{existing.surgeon_id}/blocks/", body).status_code == 201


def test_the_same_hours_on_another_weekday_are_fine(admin_client_api: APIClient) -> None:
    existing = BlockFactory(weekday=2)
    body = _block(existing.location_id, weekday=3)
    assert admin_client_api.post(f"/api/v1/surgeons/{existing.surgeon_id}/blocks/", body).status_code == 201


def test_the_same_hours_in_validity_periods_that_do_not_meet_are_fine(admin_client_api: APIClient) -> None:
    existing = BlockFactory(weekday=0, valid_from="2026-01-01", valid_until="2026-12-31")
    body = _block(LocationFactory().pk, valid_from="2027-01-01")
    assert admin_client_api.post(f"/api/v1/surgeons/{existing.surgeon_id}/blocks/", body).status_code == 201


def test_an_open_ended_block_overlaps_a_later_one(admin_client_api: APIClient) -> None:
    existing = BlockFactory(weekday=0, valid_from="2026-01-01", valid_until=None)
    body = _block(LocationFactory().pk, valid_from="2030-01-01", valid_until="2030-06-30")
    response = admin_client_api.post(f"/api/v1/surgeons/{existing.surgeon_id}/blocks/", body)
    assert response.json()["error"]["code"] == BlockOverlap.code


def test_another_surgeon_may_work_the_same_hours(admin_client_api: APIClient) -> None:
    existing = BlockFactory()
    body = _block(existing.location_id, valid_from="2026-01-01")
    assert admin_client_api.post(f"/api/v1/surgeons/{SurgeonFactory().pk}/blocks/", body).status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start": "12:00", "end": "08:00"}, "end"),
        ({"start": "12:00", "end": "12:00"}, "end"),
        ({"valid_from": "2027-06-01", "valid_until": "2027-05-31"}, "valid_until"),
    ],
    ids=["ends-before-start", "empty", "validity-reversed"],
)
def test_it_refuses_a_block_that_makes_no_interval(
    admin_client_api: APIClient, changes: dict, field: str
) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory()
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", _block(location.pk, **changes))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == InvalidInterval.code
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekday": 7}, "weekday"),
        ({"start": "8 am"}, "start"),
        ({"location": 999999}, "location"),
        ({"release_hours_before": 24 * 365 + 1}, "release_hours_before"),
        ({"release_hours_before": 2**31 - 1}, "release_hours_before"),
    ],
)
def test_malformed_block_fields_are_a_400_naming_the_field(
    admin_client_api: APIClient, changes: dict, field: str
) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory()
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", _block(location.pk, **changes))
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_it_refuses_a_block_at_an_inactive_location(admin_client_api: APIClient) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory(is_active=False)
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", _block(location.pk))
    assert response.status_code == 400
    assert "location" in response.json()["error"]["fields"]


def test_a_block_cannot_be_moved_to_an_inactive_location(admin_client_api: APIClient) -> None:
    block = BlockFactory()
    closed = LocationFactory(is_active=False)
    url = f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/"
    response = admin_client_api.patch(url, {"location": closed.pk})
    assert response.status_code == 400
    assert "location" in response.json()["error"]["fields"]
    block.refresh_from_db()
    assert block.location_id != closed.pk


def test_a_block_at_a_location_since_deactivated_may_still_be_ended(admin_client_api: APIClient) -> None:
    block = BlockFactory(valid_from="2027-01-01", valid_until=None)
    Location.objects.filter(pk=block.location_id).update(is_active=False)
    url = f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/"
    response = admin_client_api.patch(url, {"valid_until": "2027-06-30"})
    assert response.status_code == 200
    block.refresh_from_db()
    assert block.valid_until == dt.date(2027, 6, 30)


def test_moving_a_block_onto_another_of_the_surgeons_blocks_is_refused(admin_client_api: APIClient) -> None:
    monday = BlockFactory(weekday=0)
    tuesday = BlockFactory(surgeon=monday.surgeon, weekday=1)
    response = admin_client_api.patch(
        f"/api/v1/surgeons/{monday.surgeon_id}/blocks/{tuesday.pk}/", {"weekday": 0}
    )
    assert response.json()["error"]["code"] == BlockOverlap.code
    tuesday.refresh_from_db()
    assert tuesday.weekday == 1


def test_a_block_may_be_changed_without_overlapping_itself(admin_client_api: APIClient) -> None:
    block = BlockFactory(start="08:00", end="12:00")
    url = f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/"
    response = admin_client_api.patch(url, {"end": "13:00"})
    assert response.status_code == 200
    assert response.json()["end"] == "13:00"
    assert response.json()["conflicts"] == []


def test_put_replaces_a_block(admin_client_api: APIClient) -> None:
    block = BlockFactory()
    url = f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/"
    body = _block(block.location_id, weekday=4, start="13:00", end="17:00", reserved_for_tier="urgent")
    assert admin_client_api.put(url, body).status_code == 200
    block.refresh_from_db()
    assert (block.weekday, f"{block.start:%H:%M}", block.reserved_for_tier.code) == (4, "13:00", "urgent")


def test_an_administrator_deletes_a_block(admin_client_api: APIClient) -> None:
    block = BlockFactory()
    response = admin_client_api.delete(f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/")
    assert response.status_code == 200
    assert response.json() == {"conflicts": []}
    assert not Block.objects.exists()


def test_a_scheduler_lists_a_surgeons_blocks_filtered_by_location(scheduler_client: APIClient) -> None:
    block = BlockFactory(weekday=0)
    BlockFactory(surgeon=block.surgeon, weekday=1)
    BlockFactory(location=block.location, weekday=2)
    response = scheduler_client.get(
        f"/api/v1/surgeons/{block.surgeon_id}/blocks/", {"location": block.location_id}
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [block.pk]


def test_the_blocks_list_filters_by_the_date_they_are_valid_on(scheduler_client: APIClient) -> None:
    old = BlockFactory(weekday=0, valid_from="2025-01-01", valid_until="2025-12-31")
    current = BlockFactory(surgeon=old.surgeon, weekday=0, valid_from="2026-01-01")
    response = scheduler_client.get(f"/api/v1/surgeons/{old.surgeon_id}/blocks/", {"active_on": "2026-06-01"})
    assert [row["id"] for row in response.json()["results"]] == [current.pk]


def test_listing_blocks_takes_a_fixed_number_of_queries(
    scheduler_client: APIClient, django_assert_max_num_queries: object
) -> None:
    surgeon = SurgeonFactory()
    for weekday in range(7):
        BlockFactory(surgeon=surgeon, weekday=weekday, reserved_for_tier_id=None)
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        assert scheduler_client.get(f"/api/v1/surgeons/{surgeon.pk}/blocks/").status_code == 200


def test_a_block_inside_opening_hours_comes_back_without_warnings(admin_client_api: APIClient) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory()
    OpeningHoursFactory(location=location, weekday=0, opens=dt.time(8), closes=dt.time(17))
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", _block(location.pk))
    assert response.status_code == 201
    assert response.json()["warnings"] == []


def test_a_block_reaching_outside_opening_hours_is_saved_with_a_warning_naming_those_hours(
    admin_client_api: APIClient,
) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory(name="Northside")
    OpeningHoursFactory(location=location, weekday=0, opens=dt.time(8), closes=dt.time(12))
    OpeningHoursFactory(location=location, weekday=0, opens=dt.time(13), closes=dt.time(17))
    response = admin_client_api.post(
        f"/api/v1/surgeons/{surgeon.pk}/blocks/", _block(location.pk, start="07:00", end="18:00")
    )
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        f"{start} on Mondays is outside Northside's opening hours (08:00-12:00, 13:00-17:00) "
        "and can never be booked."
        for start in ("07:00-08:00", "12:00-13:00", "17:00-18:00")
    ]
    assert Block.objects.filter(surgeon=surgeon).exists()


def test_a_block_on_a_closed_weekday_is_saved_with_a_warning_that_none_of_it_can_be_booked(
    admin_client_api: APIClient,
) -> None:
    surgeon, location = SurgeonFactory(), LocationFactory(name="Northside")
    OpeningHoursFactory(location=location, weekday=0, opens=dt.time(8), closes=dt.time(17))
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/blocks/", _block(location.pk, weekday=5))
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "Northside is closed on Saturdays: none of this block (08:00-12:00) can ever be booked."
    ]
