from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from practice.models import AppointmentType
from practice.services import InUse
from tests.factories import AppointmentFactory, AppointmentTypeFactory

pytestmark = pytest.mark.django_db

IMAGING_REVIEW = {
    "code": "imaging-review",
    "name": "Imaging review",
    "duration_minutes": 30,
    "buffer_minutes": 5,
    "min_notice_hours": 4,
    "is_active": True,
}


def test_an_administrator_adds_an_appointment_type(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/appointment-types/", IMAGING_REVIEW)
    assert response.status_code == 201
    assert response.json() == {"id": AppointmentType.objects.get().pk, **IMAGING_REVIEW}


def test_a_duplicate_code_is_a_400_naming_code(admin_client_api: APIClient) -> None:
    AppointmentTypeFactory(code="imaging-review")
    response = admin_client_api.post("/api/v1/appointment-types/", IMAGING_REVIEW)
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": -5}, "duration_minutes"),
        ({"buffer_minutes": "ten"}, "buffer_minutes"),
        ({"code": "Imaging Review"}, "code"),
    ],
)
def test_bad_numbers_and_codes_are_a_400_naming_the_field(
    admin_client_api: APIClient, changes: dict, field: str
) -> None:
    response = admin_client_api.post("/api/v1/appointment-types/", {**IMAGING_REVIEW, **changes})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_administrator_changes_a_duration(admin_client_api: APIClient) -> None:
    kind = AppointmentTypeFactory()
    response = admin_client_api.patch(f"/api/v1/appointment-types/{kind.pk}/", {"duration_minutes": 45})
    assert response.status_code == 200
    kind.refresh_from_db()
    assert kind.duration_minutes == 45


def test_a_scheduler_lists_only_active_types_when_asked(scheduler_client: APIClient) -> None:
    AppointmentTypeFactory(code="new-consultation")
    AppointmentTypeFactory(code="retired", name="Retired", is_active=False)
    response = scheduler_client.get("/api/v1/appointment-types/", {"is_active": "true"})
    assert [row["code"] for row in response.json()["results"]] == ["new-consultation"]


def test_a_type_that_was_booked_cannot_be_deleted(admin_client_api: APIClient) -> None:
    appointment = AppointmentFactory(start=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    response = admin_client_api.delete(f"/api/v1/appointment-types/{appointment.appointment_type_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == InUse.code
