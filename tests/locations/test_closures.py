from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from locations.models import Closure
from locations.services.errors import InvalidInterval
from tests.factories import ClosureFactory, LocationFactory

pytestmark = pytest.mark.django_db


def test_an_administrator_closes_a_location_for_a_range_of_days(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = {"start_date": "2027-07-05", "end_date": "2027-07-09", "reason": "Renovation"}
    response = admin_client_api.post(f"/api/v1/locations/{location.pk}/closures/", body)
    assert response.status_code == 201
    created = response.json()
    assert created["id"] == Closure.objects.get(location=location).pk
    assert created["start_time"] is None
    assert created["conflicts"] == []


def test_a_closure_may_cover_only_part_of_a_day(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = {
        "start_date": "2027-02-01",
        "end_date": "2027-02-01",
        "start_time": "12:00",
        "end_time": "14:00",
        "reason": "Staff training",
    }
    response = admin_client_api.post(f"/api/v1/locations/{location.pk}/closures/", body)
    assert response.status_code == 201
    assert (response.json()["start_time"], response.json()["end_time"]) == ("12:00", "14:00")


def test_it_refuses_a_closure_that_ends_before_it_starts(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = {"start_date": "2027-07-09", "end_date": "2027-07-05", "reason": "Renovation"}
    response = admin_client_api.post(f"/api/v1/locations/{location.pk}/closures/", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == InvalidInterval.code
    assert "end_date" in response.json()["error"]["fields"]
    assert not Closure.objects.exists()


@pytest.mark.parametrize(
    ("times", "field"),
    [({"start_time": "14:00", "end_time": "12:00"}, "end_time"), ({"start_time": "12:00"}, "end_time")],
    ids=["end-before-start", "start-without-end"],
)
def test_it_refuses_part_day_times_that_make_no_interval(
    admin_client_api: APIClient, times: dict, field: str
) -> None:
    location = LocationFactory()
    body = {"start_date": "2027-02-01", "end_date": "2027-02-01", "reason": "Training", **times}
    response = admin_client_api.post(f"/api/v1/locations/{location.pk}/closures/", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_closure_needs_a_reason(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = {"start_date": "2027-02-01", "end_date": "2027-02-01", "reason": "  "}
    response = admin_client_api.post(f"/api/v1/locations/{location.pk}/closures/", body)
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]


def test_a_scheduler_lists_one_locations_closures_filtered_by_date(scheduler_client: APIClient) -> None:
    location = LocationFactory()
    ClosureFactory(location=location, start_date="2027-01-01", end_date="2027-01-01", reason="New Year")
    ClosureFactory(location=location, start_date="2027-07-05", end_date="2027-07-09", reason="Renovation")
    ClosureFactory(start_date="2027-07-06", end_date="2027-07-06", reason="Elsewhere")
    response = scheduler_client.get(
        f"/api/v1/locations/{location.pk}/closures/", {"on_or_after": "2027-07-07"}
    )
    assert response.status_code == 200
    assert [row["reason"] for row in response.json()["results"]] == ["Renovation"]


def test_an_administrator_deletes_a_closure(admin_client_api: APIClient) -> None:
    closure = ClosureFactory()
    response = admin_client_api.delete(f"/api/v1/locations/{closure.location_id}/closures/{closure.pk}/")
    assert response.status_code == 204
    assert not Closure.objects.exists()


def test_a_closure_of_another_location_is_not_found_under_this_one(admin_client_api: APIClient) -> None:
    closure = ClosureFactory()
    other = LocationFactory()
    response = admin_client_api.delete(f"/api/v1/locations/{other.pk}/closures/{closure.pk}/")
    assert response.status_code == 404
    assert Closure.objects.filter(pk=closure.pk).exists()


def test_closures_of_an_unknown_location_are_a_404(scheduler_client: APIClient) -> None:
    assert scheduler_client.get("/api/v1/locations/999999/closures/").status_code == 404
