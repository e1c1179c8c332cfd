"""The permission matrix: every write answers 401 anonymous, 403 scheduler, 2xx administrator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    AppointmentTypeFactory,
    BlockFactory,
    ClosureFactory,
    LocationFactory,
    SurgeonFactory,
    TimeOffFactory,
)

pytestmark = pytest.mark.django_db

Request = tuple[str, str, Any]


def _location_create() -> Request:
    return "post", "/api/v1/locations/", {"name": "New", "timezone": "America/Chicago"}


def _location_update() -> Request:
    return "patch", f"/api/v1/locations/{LocationFactory().pk}/", {"name": "Renamed"}


def _location_replace() -> Request:
    return (
        "put",
        f"/api/v1/locations/{LocationFactory().pk}/",
        {"name": "Renamed", "timezone": "America/Phoenix"},
    )


def _location_delete() -> Request:
    return "delete", f"/api/v1/locations/{LocationFactory().pk}/", None


def _hours_replace() -> Request:
    body = [{"weekday": 0, "opens": "08:00", "closes": "17:00"}]
    return "put", f"/api/v1/locations/{LocationFactory().pk}/hours/", body


def _closure_create() -> Request:
    body = {"start_date": "2027-01-01", "end_date": "2027-01-01", "reason": "Holiday"}
    return "post", f"/api/v1/locations/{LocationFactory().pk}/closures/", body


def _closure_delete() -> Request:
    closure = ClosureFactory()
    return "delete", f"/api/v1/locations/{closure.location_id}/closures/{closure.pk}/", None


def _surgeon_create() -> Request:
    return "post", "/api/v1/surgeons/", {"first_name": "Ada", "last_name": "Lee"}


def _surgeon_update() -> Request:
    return "patch", f"/api/v1/surgeons/{SurgeonFactory().pk}/", {"is_active": False}


def _surgeon_delete() -> Request:
    return "delete", f"/api/v1/surgeons/{SurgeonFactory().pk}/", None


def _block_create() -> Request:
    body = {
        "location": LocationFactory().pk,
        "weekday": 1,
        "start": "08:00",
        "end": "12:00",
        "valid_from": "2027-01-01",
    }
    return "post", f"/api/v1/surgeons/{SurgeonFactory().pk}/blocks/", body


def _block_update() -> Request:
    block = BlockFactory()
    return "patch", f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/", {"end": "13:00"}


def _block_delete() -> Request:
    block = BlockFactory()
    return "delete", f"/api/v1/surgeons/{block.surgeon_id}/blocks/{block.pk}/", None


def _time_off_create() -> Request:
    body = {"start": "2027-03-01T08:00:00-06:00", "end": "2027-03-02T08:00:00-06:00", "reason": "Leave"}
    return "post", f"/api/v1/surgeons/{SurgeonFactory().pk}/time-off/", body


def _time_off_delete() -> Request:
    time_off = TimeOffFactory()
    return "delete", f"/api/v1/surgeons/{time_off.surgeon_id}/time-off/{time_off.pk}/", None


def _appointment_type_create() -> Request:
    body = {"code": "pre-op", "name": "Pre-op visit", "duration_minutes": 30}
    return "post", "/api/v1/appointment-types/", body


def _appointment_type_update() -> Request:
    return "patch", f"/api/v1/appointment-types/{AppointmentTypeFactory().pk}/", {"duration_minutes": 45}


def _appointment_type_delete() -> Request:
    return "delete", f"/api/v1/appointment-types/{AppointmentTypeFactory().pk}/", None


def _tier_create() -> Request:
    return (
        "post",
        "/api/v1/urgency-tiers/",
        {"code": "emergent", "name": "Emergent", "max_wait_days": 1, "rank": 30},
    )


def _tier_update() -> Request:
    from practice.models import UrgencyTier

    return (
        "patch",
        f"/api/v1/urgency-tiers/{UrgencyTier.objects.get(code='standard').pk}/",
        {"max_wait_days": 10},
    )


def _tier_delete() -> Request:
    from practice.models import UrgencyTier

    tier = UrgencyTier.objects.create(code="routine", name="Routine", max_wait_days=60, rank=1)
    return "delete", f"/api/v1/urgency-tiers/{tier.pk}/", None


WRITES: list[Callable[[], Request]] = [
    _location_create,
    _location_update,
    _location_replace,
    _location_delete,
    _hours_replace,
    _closure_create,
    _closure_delete,
    _surgeon_create,
    _surgeon_update,
    _surgeon_delete,
    _block_create,
    _block_update,
    _block_delete,
    _time_off_create,
    _time_off_delete,
    _appointment_type_create,
    _appointment_type_update,
    _appointment_type_delete,
    _tier_create,
    _tier_update,
    _tier_delete,
]
IDS = [write.__name__.strip("_") for write in WRITES]


def _send(client: APIClient, request: Request) -> Any:
    method, url, body = request
    return (
        getattr(client, method)(url, body, format="json")
        if body is not None
        else getattr(client, method)(url)
    )


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_an_anonymous_write_is_a_401_in_the_error_shape(anonymous_client: APIClient, write: Callable) -> None:
    response = _send(anonymous_client, write())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_a_scheduler_write_is_a_403_in_the_error_shape(scheduler_client: APIClient, write: Callable) -> None:
    response = _send(scheduler_client, write())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_an_administrator_may_write(admin_client_api: APIClient, write: Callable) -> None:
    response = _send(admin_client_api, write())
    assert response.status_code in {200, 201, 204}, response.content


READS = [
    "/api/v1/locations/",
    "/api/v1/surgeons/",
    "/api/v1/appointment-types/",
    "/api/v1/urgency-tiers/",
]


@pytest.mark.parametrize("url", READS)
def test_a_scheduler_reads_the_reference_data_and_an_anonymous_client_does_not(
    scheduler_client: APIClient, anonymous_client: APIClient, url: str
) -> None:
    assert scheduler_client.get(url).status_code == 200
    assert anonymous_client.get(url).status_code == 401


def test_a_scheduler_reads_nested_lists(scheduler_client: APIClient) -> None:
    block = BlockFactory()
    for url in [
        f"/api/v1/locations/{block.location_id}/hours/",
        f"/api/v1/locations/{block.location_id}/closures/",
        f"/api/v1/surgeons/{block.surgeon_id}/blocks/",
        f"/api/v1/surgeons/{block.surgeon_id}/time-off/",
    ]:
        assert scheduler_client.get(url).status_code == 200, url
