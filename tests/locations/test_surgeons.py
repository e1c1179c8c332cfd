from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from booking.models import AppointmentStatus
from locations.models import Block, Surgeon
from locations.services.errors import HasFutureAppointments
from practice.services import InUse
from tests.factories import AppointmentFactory, BlockFactory, SurgeonFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

NEW_SURGEON = {
    "first_name": "Maya",
    "last_name": "Okafor",
    "display_name": "Dr. Maya Okafor",
    "specialties": ["cervical spine", "spinal tumours"],
    "is_active": True,
}


def test_an_administrator_adds_a_surgeon_and_gets_it_back_with_its_id(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/surgeons/", NEW_SURGEON)
    assert response.status_code == 201
    assert response.json() == {"id": Surgeon.objects.get().pk, **NEW_SURGEON}


def test_the_display_name_defaults_from_the_name(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/surgeons/", {"first_name": "Daniel", "last_name": "Reyes"})
    assert response.json()["display_name"] == "Dr. Daniel Reyes"
    assert response.json()["specialties"] == []


def test_blanking_the_display_name_restores_the_default_from_the_name(admin_client_api: APIClient) -> None:
    surgeon = SurgeonFactory(first_name="Daniel", last_name="Reyes", display_name="Danny")
    response = admin_client_api.patch(f"/api/v1/surgeons/{surgeon.pk}/", {"display_name": ""})
    assert response.status_code == 200
    assert response.json()["display_name"] == "Dr. Daniel Reyes"
    surgeon.refresh_from_db()
    assert surgeon.display_name == "Dr. Daniel Reyes"


def test_specialties_must_be_a_list_of_words(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/surgeons/", {**NEW_SURGEON, "specialties": "spine"})
    assert response.status_code == 400
    assert "specialties" in response.json()["error"]["fields"]


def test_a_missing_last_name_is_a_400_naming_it(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/surgeons/", {"first_name": "Maya"})
    assert response.status_code == 400
    assert "last_name" in response.json()["error"]["fields"]


def test_an_administrator_deactivates_a_surgeon(admin_client_api: APIClient) -> None:
    surgeon = SurgeonFactory()
    response = admin_client_api.patch(f"/api/v1/surgeons/{surgeon.pk}/", {"is_active": False})
    assert response.status_code == 200
    surgeon.refresh_from_db()
    assert not surgeon.is_active


def test_put_replaces_every_field(admin_client_api: APIClient) -> None:
    surgeon = SurgeonFactory()
    assert admin_client_api.put(f"/api/v1/surgeons/{surgeon.pk}/", NEW_SURGEON).status_code == 200
    surgeon.refresh_from_db()
    assert (surgeon.display_name, surgeon.specialties) == (
        "Dr. Maya Okafor",
        ["cervical spine", "spinal tumours"],
    )


def test_a_scheduler_finds_surgeons_by_name_and_by_location(scheduler_client: APIClient) -> None:
    okafor = SurgeonFactory(first_name="Maya", last_name="Okafor", display_name="Dr. Maya Okafor")
    reyes = SurgeonFactory(first_name="Daniel", last_name="Reyes", display_name="Dr. Daniel Reyes")
    block = BlockFactory(surgeon=reyes)
    BlockFactory(surgeon=reyes, location=block.location, weekday=1)
    by_name = scheduler_client.get("/api/v1/surgeons/", {"name": "okaf"}).json()["results"]
    by_location = scheduler_client.get("/api/v1/surgeons/", {"location": block.location_id}).json()["results"]
    assert [row["id"] for row in by_name] == [okafor.pk]
    assert [row["id"] for row in by_location] == [reyes.pk]


def test_deleting_a_surgeon_with_a_future_visit_is_a_409(admin_client_api: APIClient) -> None:
    appointment = AppointmentFactory(start=dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    response = admin_client_api.delete(f"/api/v1/surgeons/{appointment.surgeon_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == HasFutureAppointments.code
    assert Surgeon.objects.filter(pk=appointment.surgeon_id).exists()


def test_deleting_a_surgeon_with_only_past_visits_is_refused_to_keep_the_record(
    admin_client_api: APIClient,
) -> None:
    appointment = AppointmentFactory(
        start=dt.datetime.now(dt.UTC) - dt.timedelta(days=30), status=AppointmentStatus.COMPLETED
    )
    response = admin_client_api.delete(f"/api/v1/surgeons/{appointment.surgeon_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == InUse.code


def test_deleting_a_surgeon_without_visits_removes_their_template(admin_client_api: APIClient) -> None:
    block = BlockFactory()
    TimeOffFactory(surgeon=block.surgeon)
    assert admin_client_api.delete(f"/api/v1/surgeons/{block.surgeon_id}/").status_code == 204
    assert not Block.objects.exists()


def test_a_surgeon_change_is_recorded_with_its_author(
    admin_client_api: APIClient, administrator: User
) -> None:
    surgeon = SurgeonFactory()
    admin_client_api.patch(f"/api/v1/surgeons/{surgeon.pk}/", {"display_name": "Dr. M. Okafor"})
    latest = Surgeon.history.filter(id=surgeon.pk).latest("history_date")
    assert (latest.display_name, latest.history_user) == ("Dr. M. Okafor", administrator)


def test_listing_surgeons_takes_a_fixed_number_of_queries(
    scheduler_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    SurgeonFactory.create_batch(20)
    with django_assert_max_num_queries(4):
        assert scheduler_client.get("/api/v1/surgeons/").status_code == 200
