from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from locations.models import OpeningHours
from locations.services.errors import HoursOverlap, InvalidInterval
from tests.factories import LocationFactory, OpeningHoursFactory

pytestmark = pytest.mark.django_db

WEEK_WITH_LUNCH = [
    {"weekday": 0, "opens": "08:00", "closes": "12:00"},
    {"weekday": 0, "opens": "13:00", "closes": "17:00"},
    {"weekday": 2, "opens": "09:00", "closes": "15:30"},
]


def _hours(location_id: int) -> list[tuple[int, str, str]]:
    return [
        (h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}")
        for h in OpeningHours.objects.filter(location_id=location_id).order_by("weekday", "opens")
    ]


def test_put_replaces_the_whole_week_and_answers_with_it(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    OpeningHoursFactory(location=location, weekday=4)
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", WEEK_WITH_LUNCH)
    assert response.status_code == 200
    assert response.json()["hours"] == WEEK_WITH_LUNCH
    assert _hours(location.pk) == [(0, "08:00", "12:00"), (0, "13:00", "17:00"), (2, "09:00", "15:30")]


def test_a_scheduler_reads_the_hours_as_wall_clock_times(scheduler_client: APIClient) -> None:
    location = LocationFactory()
    OpeningHoursFactory(location=location, weekday=1)
    response = scheduler_client.get(f"/api/v1/locations/{location.pk}/hours/")
    assert response.status_code == 200
    assert response.json() == [{"weekday": 1, "opens": "08:00", "closes": "17:00"}]


def test_an_empty_week_closes_the_location(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    OpeningHoursFactory(location=location)
    assert admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", []).status_code == 200
    assert _hours(location.pk) == []


def test_it_refuses_overlapping_intervals_on_one_day_naming_the_interval(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = [
        {"weekday": 0, "opens": "08:00", "closes": "17:00"},
        {"weekday": 1, "opens": "08:00", "closes": "17:00"},
        {"weekday": 0, "opens": "12:00", "closes": "18:00"},
    ]
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == HoursOverlap.code
    assert list(response.json()["error"]["fields"]) == ["2.opens"]


def test_it_finds_an_overlap_hidden_behind_a_shorter_interval(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = [
        {"weekday": 3, "opens": "08:00", "closes": "17:00"},
        {"weekday": 3, "opens": "09:00", "closes": "10:00"},
        {"weekday": 3, "opens": "11:00", "closes": "12:00"},
    ]
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", body)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"1.opens", "2.opens"}


def test_intervals_that_touch_do_not_overlap(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = [
        {"weekday": 0, "opens": "08:00", "closes": "12:00"},
        {"weekday": 0, "opens": "12:00", "closes": "16:00"},
    ]
    assert admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", body).status_code == 200


def test_it_refuses_an_interval_that_closes_before_it_opens(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = [{"weekday": 0, "opens": "17:00", "closes": "08:00"}]
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == InvalidInterval.code
    assert "0.closes" in response.json()["error"]["fields"]


def test_it_refuses_a_weekday_outside_monday_to_sunday(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    body = [{"weekday": 7, "opens": "08:00", "closes": "12:00"}]
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", body)
    assert response.status_code == 400
    assert "0.weekday" in response.json()["error"]["fields"]


def test_a_body_that_is_not_a_list_is_a_400(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    response = admin_client_api.put(
        f"/api/v1/locations/{location.pk}/hours/", {"weekday": 0, "opens": "08:00", "closes": "12:00"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "bad_interval",
    [
        {"weekday": 4, "opens": "16:00", "closes": "09:00"},
        {"weekday": 0, "opens": "11:00", "closes": "14:00"},
        {"weekday": 4, "opens": "nine", "closes": "17:00"},
        {"weekday": 4, "opens": "09:00"},
    ],
    ids=["closes-before-opens", "overlap", "not-a-time", "missing-closes"],
)
def test_put_with_one_bad_interval_changes_nothing(admin_client_api: APIClient, bad_interval: dict) -> None:
    location = LocationFactory()
    OpeningHoursFactory(location=location, weekday=5, opens="09:00", closes="13:00")
    before = _hours(location.pk)
    body = [*WEEK_WITH_LUNCH, bad_interval]
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", body)
    assert response.status_code == 400
    assert _hours(location.pk) == before


def test_hours_of_an_unknown_location_are_a_404(admin_client_api: APIClient) -> None:
    assert admin_client_api.put("/api/v1/locations/999999/hours/", WEEK_WITH_LUNCH).status_code == 404
