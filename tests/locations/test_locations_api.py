from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from booking.models import AppointmentStatus
from locations.models import Location
from locations.services.errors import HasFutureAppointments, InvalidTimezone
from practice.services import InUse
from tests.factories import AppointmentFactory, BlockFactory, LocationFactory

pytestmark = pytest.mark.django_db

NEW_LOCATION = {
    "name": "Lakeside Spine Evanston",
    "address": "1000 Central St, Evanston, IL",
    "phone": "+18475550100",
    "timezone": "America/Chicago",
    "is_active": True,
}


def test_an_administrator_creates_a_location_and_gets_it_back_with_its_id(
    admin_client_api: APIClient,
) -> None:
    response = admin_client_api.post("/api/v1/locations/", NEW_LOCATION)
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], **NEW_LOCATION}
    assert Location.objects.get(pk=body["id"]).timezone == "America/Chicago"


def test_it_refuses_a_time_zone_that_is_not_iana_naming_the_field(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/locations/", {**NEW_LOCATION, "timezone": "Chicago/Lakeside"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == InvalidTimezone.code
    assert "timezone" in response.json()["error"]["fields"]
    assert not Location.objects.exists()


def test_the_servers_localtime_alias_is_not_a_zone(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/locations/", {**NEW_LOCATION, "timezone": "localtime"})
    assert response.status_code == 400
    assert "timezone" in response.json()["error"]["fields"]


def test_it_refuses_a_bad_zone_on_update_too(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    response = admin_client_api.patch(f"/api/v1/locations/{location.pk}/", {"timezone": "CST"})
    assert response.status_code == 400
    assert "timezone" in response.json()["error"]["fields"]
    location.refresh_from_db()
    assert location.timezone == "America/Chicago"


def test_a_phone_number_that_is_not_a_number_is_a_400_naming_phone(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/locations/", {**NEW_LOCATION, "phone": "call us"})
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]


def test_an_administrator_moves_a_location_to_another_zone(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    response = admin_client_api.patch(f"/api/v1/locations/{location.pk}/", {"timezone": "America/Phoenix"})
    assert response.status_code == 200
    assert response.json()["timezone"] == "America/Phoenix"


def test_a_scheduler_lists_locations_filtered_by_active_flag(scheduler_client: APIClient) -> None:
    LocationFactory(name="Open clinic")
    LocationFactory(name="Old clinic", is_active=False)
    response = scheduler_client.get("/api/v1/locations/", {"is_active": "true"})
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Open clinic"]


def test_the_location_list_is_paginated(scheduler_client: APIClient) -> None:
    LocationFactory.create_batch(3)
    body = scheduler_client.get("/api/v1/locations/", {"limit": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_deleting_a_location_with_a_future_appointment_is_refused_with_409(
    admin_client_api: APIClient,
) -> None:
    appointment = AppointmentFactory(start=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    response = admin_client_api.delete(f"/api/v1/locations/{appointment.location_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == HasFutureAppointments.code
    assert Location.objects.filter(pk=appointment.location_id).exists()


def test_a_cancelled_future_appointment_does_not_count_but_its_history_still_protects_the_row(
    admin_client_api: APIClient,
) -> None:
    appointment = AppointmentFactory(
        start=dt.datetime.now(dt.UTC) + dt.timedelta(days=3), status=AppointmentStatus.CANCELLED
    )
    response = admin_client_api.delete(f"/api/v1/locations/{appointment.location_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == InUse.code


def test_deleting_a_location_surgeons_still_work_at_is_a_409_not_a_500(admin_client_api: APIClient) -> None:
    block = BlockFactory()
    response = admin_client_api.delete(f"/api/v1/locations/{block.location_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == InUse.code


def test_an_unused_location_is_deleted(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    assert admin_client_api.delete(f"/api/v1/locations/{location.pk}/").status_code == 204
    assert not Location.objects.filter(pk=location.pk).exists()


def test_an_unknown_location_is_a_404_in_the_error_shape(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/locations/999999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_listing_locations_takes_a_fixed_number_of_queries(
    scheduler_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    LocationFactory.create_batch(20)
    with django_assert_max_num_queries(4):
        assert scheduler_client.get("/api/v1/locations/").status_code == 200
