"""Changes to hours, closures, templates and time off are recorded with who made them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from locations.models import Block, Closure, Location, OpeningHours, TimeOff
from tests.factories import BlockFactory, LocationFactory, OpeningHoursFactory, SurgeonFactory

pytestmark = pytest.mark.django_db


def test_replacing_hours_records_each_removed_and_added_interval_with_the_user(
    admin_client_api: APIClient, administrator: User
) -> None:
    location = LocationFactory()
    OpeningHoursFactory(location=location, weekday=0)
    week = [{"weekday": 1, "opens": "09:00", "closes": "13:00"}]
    admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", week)
    records = OpeningHours.history.filter(location_id=location.pk).exclude(history_user=None)
    assert sorted((r.history_type, r.weekday) for r in records) == [("+", 1), ("-", 0)]
    assert {r.history_user for r in records} == {administrator}


def test_a_closure_records_its_author(admin_client_api: APIClient, administrator: User) -> None:
    location = LocationFactory()
    body = {"start_date": "2027-12-24", "end_date": "2027-12-26", "reason": "Christmas"}
    admin_client_api.post(f"/api/v1/locations/{location.pk}/closures/", body)
    record = Closure.history.get()
    assert (record.history_type, record.history_user, record.reason) == ("+", administrator, "Christmas")


def test_changing_a_block_records_before_and_after(admin_client_api: APIClient, administrator: User) -> None:
    block = BlockFactory(end="12:00")
    admin_client_api.patch(f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/", {"end": "14:00"})
    latest = Block.history.filter(id=block.pk).latest("history_date")
    assert latest.history_user == administrator
    assert [change.field for change in latest.diff_against(latest.prev_record).changes] == ["end"]


def test_deleting_time_off_is_recorded(admin_client_api: APIClient, administrator: User) -> None:
    surgeon = SurgeonFactory()
    body = {"start": "2027-03-01T08:00:00-06:00", "end": "2027-03-02T08:00:00-06:00", "reason": "Leave"}
    time_off_id = admin_client_api.post(f"/api/v1/surgeons/{surgeon.pk}/time-off/", body).json()["id"]
    admin_client_api.delete(f"/api/v1/surgeons/{surgeon.pk}/time-off/{time_off_id}/")
    assert [(r.history_type, r.history_user) for r in TimeOff.history.order_by("history_date")] == [
        ("+", administrator),
        ("-", administrator),
    ]


def test_a_location_change_is_recorded(admin_client_api: APIClient, administrator: User) -> None:
    location = LocationFactory()
    admin_client_api.patch(f"/api/v1/locations/{location.pk}/", {"timezone": "America/Phoenix"})
    latest = Location.history.filter(id=location.pk).latest("history_date")
    assert (latest.timezone, latest.history_user) == ("America/Phoenix", administrator)


def test_putting_the_same_week_again_records_nothing(admin_client_api: APIClient) -> None:
    location = LocationFactory()
    week = [
        {"weekday": 1, "opens": "09:00", "closes": "13:00"},
        {"weekday": 2, "opens": "09:00", "closes": "13:00"},
    ]
    admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", week)
    before = OpeningHours.history.count()
    response = admin_client_api.put(f"/api/v1/locations/{location.pk}/hours/", list(reversed(week)))
    assert response.json()["hours"] == week
    assert OpeningHours.history.count() == before
