"""Listing and reading appointments: filters by patient, surgeon, location, status and dates."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from booking.models import AppointmentStatus
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, SurgeonFactory

pytestmark = pytest.mark.django_db

MARCH_8 = dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC)


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_it_filters_by_patient_surgeon_and_location(scheduler_client: APIClient) -> None:
    wanted = AppointmentFactory(start=MARCH_8)
    AppointmentFactory(
        start=MARCH_8 + dt.timedelta(hours=1), patient=wanted.patient, surgeon=SurgeonFactory()
    )
    AppointmentFactory(
        start=MARCH_8 + dt.timedelta(hours=2), surgeon=wanted.surgeon, location=LocationFactory()
    )
    AppointmentFactory(
        start=MARCH_8 + dt.timedelta(hours=4), surgeon=wanted.surgeon, location=wanted.location
    )
    query = {"patient": wanted.patient_id, "surgeon": wanted.surgeon_id, "location": wanted.location_id}
    assert ids(scheduler_client.get("/api/v1/appointments/", query)) == [wanted.id]


def test_it_filters_by_one_or_more_statuses(scheduler_client: APIClient) -> None:
    booked = AppointmentFactory(start=MARCH_8)
    confirmed = AppointmentFactory(start=MARCH_8 + dt.timedelta(hours=1), status=AppointmentStatus.CONFIRMED)
    AppointmentFactory(start=MARCH_8 + dt.timedelta(hours=2), status=AppointmentStatus.CANCELLED)
    response = scheduler_client.get("/api/v1/appointments/?status=booked&status=confirmed")
    assert ids(response) == [booked.id, confirmed.id]


def test_it_filters_by_a_date_range_in_start_order(scheduler_client: APIClient) -> None:
    AppointmentFactory(start=MARCH_8 - dt.timedelta(days=1))
    later = AppointmentFactory(start=MARCH_8 + dt.timedelta(hours=3))
    first = AppointmentFactory(start=MARCH_8)
    AppointmentFactory(start=MARCH_8 + dt.timedelta(days=1))
    response = scheduler_client.get(
        "/api/v1/appointments/",
        {"start_from": "2027-03-08T00:00:00-06:00", "start_to": "2027-03-09T00:00:00-06:00"},
    )
    assert ids(response) == [first.id, later.id]


def test_an_unknown_status_filter_is_a_400_naming_it(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/appointments/", {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_a_malformed_date_filter_is_a_400_naming_it(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/appointments/", {"start_from": "yesterday"})
    assert response.status_code == 400
    assert "start_from" in response.json()["error"]["fields"]


def test_the_list_costs_a_fixed_number_of_queries(
    scheduler_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for hour in range(25):
        AppointmentFactory(start=MARCH_8 + dt.timedelta(hours=hour), patient=PatientFactory())
    with django_assert_max_num_queries(5):
        response = scheduler_client.get("/api/v1/appointments/")
    assert response.json()["count"] == 25


def test_an_appointment_reads_with_its_patients_name_and_codes(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=MARCH_8, patient=PatientFactory(first_name="Ann", last_name="Lee"))
    body = scheduler_client.get(f"/api/v1/appointments/{appointment.id}/").json()
    assert body["patient_name"] == "Ann Lee"
    assert (body["appointment_type"], body["tier"]) == ("new-consultation", "standard")
    assert body["rescheduled_from"] is None
    assert body["rescheduled_to"] is None
