from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from locations.models import TimeOff
from locations.services.errors import InvalidInterval
from tests.factories import SurgeonFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

CONFERENCE = {
    "start": "2027-03-01T08:00:00-06:00",
    "end": "2027-03-05T17:00:00-06:00",
    "reason": "Conference",
}


def test_an_administrator_records_time_off_as_instants_with_offsets(admin_client_api: APIClient) -> None:
    surgeon = SurgeonFactory()
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/time-off/", CONFERENCE)
    assert response.status_code == 201
    time_off = TimeOff.objects.get(surgeon=surgeon)
    assert response.json()["id"] == time_off.pk
    assert time_off.start.isoformat() == "2027-03-01T14:00:00+00:00"
    assert response.json()["conflicts"] == []


def test_it_refuses_a_time_without_an_offset_naming_the_field(admin_client_api: APIClient) -> None:
    surgeon = SurgeonFactory()
    body = {**CONFERENCE, "start": "2027-03-01T08:00:00"}
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/time-off/", body)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["start"]
    assert not TimeOff.objects.exists()


@pytest.mark.parametrize(
    "start",
    ["2027-02-30T08:00:00-06:00", "2027-03-01T25:00:00-06:00", "2027-03-01T08:00:00+99:00"],
    ids=["february-30th", "hour-25", "offset-beyond-a-day"],
)
def test_an_impossible_instant_is_a_400_naming_the_field(admin_client_api: APIClient, start: str) -> None:
    surgeon = SurgeonFactory()
    response = admin_client_api.post(
        f"/api/v1/surgeons/{surgeon.pk}/time-off/", {**CONFERENCE, "start": start}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["start"]
    assert not TimeOff.objects.exists()


def test_it_refuses_time_off_that_ends_before_it_starts(admin_client_api: APIClient) -> None:
    surgeon = SurgeonFactory()
    body = {**CONFERENCE, "end": "2027-02-28T08:00:00-06:00"}
    response = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/time-off/", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == InvalidInterval.code
    assert "end" in response.json()["error"]["fields"]


def test_a_scheduler_lists_time_off_that_ends_after_a_moment(scheduler_client: APIClient) -> None:
    surgeon = SurgeonFactory()
    TimeOffFactory(surgeon=surgeon, start="2027-01-04T14:00:00Z", end="2027-01-05T23:00:00Z", reason="Leave")
    TimeOffFactory(surgeon=surgeon, reason="Conference")
    response = scheduler_client.get(
        f"/api/v1/surgeons/{surgeon.pk}/time-off/", {"ends_after": "2027-02-01T00:00:00Z"}
    )
    assert response.status_code == 200
    assert [row["reason"] for row in response.json()["results"]] == ["Conference"]


def test_an_administrator_deletes_time_off(admin_client_api: APIClient) -> None:
    time_off = TimeOffFactory()
    response = admin_client_api.delete(f"/api/v1/surgeons/{time_off.surgeon_id}/time-off/{time_off.pk}/")
    assert response.status_code == 204
    assert not TimeOff.objects.exists()
