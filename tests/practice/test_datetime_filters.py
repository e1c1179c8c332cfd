"""Lists filtered by an instant take it as the API's bodies do: with its UTC offset, never guessed."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.factories import AppointmentFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

FILTERS = [
    ("/api/v1/appointments/", "start_from"),
    ("/api/v1/appointments/", "start_to"),
    ("time-off", "ends_after"),
    ("time-off", "starts_before"),
]


def url_for(path: str) -> str:
    if path == "time-off":
        return f"/api/v1/surgeons/{TimeOffFactory().surgeon_id}/time-off/"
    return path


@pytest.mark.parametrize(("path", "name"), FILTERS)
def test_a_time_without_an_offset_is_a_400_naming_the_filter(
    scheduler_client: APIClient, path: str, name: str
) -> None:
    response = scheduler_client.get(url_for(path), {name: "2027-03-01T08:00"})
    assert response.status_code == 400
    assert "offset" in response.json()["error"]["fields"][name][0]


@pytest.mark.parametrize(("path", "name"), FILTERS)
def test_an_impossible_or_far_instant_is_a_400_not_a_500(
    scheduler_client: APIClient, path: str, name: str
) -> None:
    for value in ("2027-02-30T08:00:00Z", "9999-12-31T23:59:00Z"):
        response = scheduler_client.get(url_for(path), {name: value})
        assert response.status_code == 400, value
        assert name in response.json()["error"]["fields"]


def test_an_offset_whose_plus_arrived_as_a_space_is_read_as_meant(scheduler_client: APIClient) -> None:
    visit = AppointmentFactory(start=dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC))
    # 16:30 at +01:00 is 15:30 UTC, after the visit; 15:30 at +01:00 is 14:30 UTC, before it.
    later = scheduler_client.get("/api/v1/appointments/", {"start_from": "2027-03-08T16:30:00 01:00"})
    earlier = scheduler_client.get("/api/v1/appointments/", {"start_from": "2027-03-08T15:30:00 01:00"})
    assert (later.status_code, earlier.status_code) == (200, 200)
    assert [row["id"] for row in later.json()["results"]] == []
    assert [row["id"] for row in earlier.json()["results"]] == [visit.id]
