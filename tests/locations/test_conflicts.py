"""Changing availability never cancels a visit: the answer lists the visits left outside it."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus
from tests.factories import AppointmentFactory, BlockFactory, LocationFactory, OpeningHoursFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked() -> Appointment:
    """A visit on a Monday three weeks ahead, 15:00 UTC (9:00 or 10:00 in Chicago), inside everything."""
    today = dt.datetime.now(dt.UTC).date()
    monday = today + dt.timedelta(days=21 - today.weekday())
    location = LocationFactory()
    OpeningHoursFactory(location=location, weekday=0, opens=dt.time(8), closes=dt.time(17))
    block = BlockFactory(location=location, weekday=0, start=dt.time(8), end=dt.time(12), valid_from=today)
    start = dt.datetime.combine(monday, dt.time(15), tzinfo=dt.UTC)
    return AppointmentFactory(surgeon=block.surgeon, location=location, start=start)


def _conflicts(body: dict) -> list[tuple[int, str]]:
    return [(row["id"], row["reason"]) for row in body["conflicts"]]


def test_closing_the_day_of_a_visit_lists_it_as_a_conflict_and_keeps_it(
    admin_client_api: APIClient, booked: Appointment
) -> None:
    day = booked.start.date().isoformat()
    body = {"start_date": day, "end_date": day, "reason": "Burst pipe"}
    response = admin_client_api.post(f"/api/v1/locations/{booked.location_id}/closures/", body)
    assert response.status_code == 201
    assert _conflicts(response.json()) == [(booked.pk, "closure")]
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_new_hours_that_leave_out_a_visit_list_it(admin_client_api: APIClient, booked: Appointment) -> None:
    week = [{"weekday": 1, "opens": "08:00", "closes": "17:00"}]
    response = admin_client_api.put(f"/api/v1/locations/{booked.location_id}/hours/", week)
    assert response.status_code == 200
    assert _conflicts(response.json()) == [(booked.pk, "outside_hours")]


def test_hours_that_still_cover_the_visit_list_no_conflict(
    admin_client_api: APIClient, booked: Appointment
) -> None:
    week = [{"weekday": 0, "opens": "07:00", "closes": "18:00"}]
    response = admin_client_api.put(f"/api/v1/locations/{booked.location_id}/hours/", week)
    assert response.json()["conflicts"] == []


def test_time_off_over_a_visit_lists_it(admin_client_api: APIClient, booked: Appointment) -> None:
    body = {
        "start": (booked.start - dt.timedelta(hours=2)).isoformat(),
        "end": (booked.start + dt.timedelta(hours=6)).isoformat(),
        "reason": "Surgery day",
    }
    response = admin_client_api.post(f"/api/v1/surgeons/{booked.surgeon_id}/time-off/", body)
    assert response.status_code == 201
    assert _conflicts(response.json()) == [(booked.pk, "time_off")]


def test_removing_the_block_of_a_visit_lists_it(admin_client_api: APIClient, booked: Appointment) -> None:
    block = booked.surgeon.blocks.get()
    response = admin_client_api.delete(f"/api/v1/surgeons/{booked.surgeon_id}/blocks/{block.pk}/")
    assert response.status_code == 200
    assert _conflicts(response.json()) == [(booked.pk, "outside_blocks")]


def test_shortening_the_block_of_a_visit_lists_it(admin_client_api: APIClient, booked: Appointment) -> None:
    block = booked.surgeon.blocks.get()
    response = admin_client_api.patch(
        f"/api/v1/surgeons/{booked.surgeon_id}/blocks/{block.pk}/", {"start": "11:00", "end": "12:00"}
    )
    assert response.status_code == 200
    assert _conflicts(response.json()) == [(booked.pk, "outside_blocks")]


def test_moving_a_location_to_another_zone_lists_the_visits_now_outside_its_hours(
    admin_client_api: APIClient, booked: Appointment
) -> None:
    # 15:00 UTC is 9:00 or 10:00 in Chicago; in Tokyo it is midnight: closed.
    response = admin_client_api.patch(f"/api/v1/locations/{booked.location_id}/", {"timezone": "Asia/Tokyo"})
    assert response.status_code == 200, response.json()
    assert response.json()["timezone"] == "Asia/Tokyo"
    assert _conflicts(response.json()) == [(booked.pk, "outside_hours")]
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_renaming_a_location_lists_no_conflict(admin_client_api: APIClient, booked: Appointment) -> None:
    response = admin_client_api.patch(f"/api/v1/locations/{booked.location_id}/", {"name": "Lakeview"})
    assert response.status_code == 200
    assert response.json()["conflicts"] == []


def test_deactivating_a_surgeon_lists_their_visits_as_inactive(
    admin_client_api: APIClient, booked: Appointment
) -> None:
    response = admin_client_api.patch(f"/api/v1/surgeons/{booked.surgeon_id}/", {"is_active": False})
    assert response.status_code == 200, response.json()
    assert _conflicts(response.json()) == [(booked.pk, "inactive")]
