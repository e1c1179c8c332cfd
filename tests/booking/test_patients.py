"""Patients through the API: schedulers create, find, correct and delete them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Patient
from booking.services import PatientHasAppointments, PossibleDuplicate
from practice.models import AuditEntry
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory

pytestmark = pytest.mark.django_db

NEW_PATIENT = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "date_of_birth": "1961-04-12",
    "phone": "+13125550199",
    "sms_consent": True,
    "record_number": "MRN-0042",
}


def test_a_scheduler_creates_a_patient_with_the_phone_stored_e164(scheduler_client: APIClient) -> None:
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "phone": "+1 (312) 555-0199"})
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+13125550199"
    assert Patient.objects.get(pk=response.json()["id"]).phone == "+13125550199"


def test_an_invalid_phone_is_a_400_naming_phone(scheduler_client: APIClient) -> None:
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "phone": "12345"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["phone"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("typed", ["(312) 555-0142", "312-555-0142", "312 555 0142", "3125550142"])
def test_a_phone_typed_without_the_country_code_is_read_as_the_practices_and_stored_e164(
    scheduler_client: APIClient, typed: str
) -> None:
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "phone": typed})
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+13125550142"
    assert Patient.objects.get().phone == "+13125550142"


def test_a_refused_phone_says_what_format_is_expected(scheduler_client: APIClient) -> None:
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "phone": "555-0142"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["phone"] == [
        "Enter a mobile number like (201) 555-0123 or +12015550123."
    ]


def test_the_practices_phone_region_decides_how_a_national_number_is_read(
    scheduler_client: APIClient, settings: Any
) -> None:
    settings.PHONENUMBER_DEFAULT_REGION = "GB"
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "phone": "07400 123456"})
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+447400123456"
    refused = scheduler_client.post(
        "/api/v1/patients/", {**NEW_PATIENT, "phone": "12345", "record_number": ""}
    )
    assert refused.json()["error"]["fields"]["phone"] == [
        "Enter a mobile number like 07400 123456 or +447400123456."
    ]


def test_a_correction_to_a_national_phone_is_stored_e164(scheduler_client: APIClient) -> None:
    patient = PatientFactory(phone="+13125550100")
    response = scheduler_client.patch(f"/api/v1/patients/{patient.id}/", {"phone": "(312) 555-0142"})
    assert response.status_code == 200, response.json()
    patient.refresh_from_db()
    assert patient.phone == "+13125550142"


def test_a_missing_name_is_a_400_naming_the_field(scheduler_client: APIClient) -> None:
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "last_name": ""})
    assert response.status_code == 400
    assert "last_name" in response.json()["error"]["fields"]


def test_a_date_of_birth_in_the_future_is_a_400(scheduler_client: APIClient) -> None:
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "date_of_birth": "2999-01-01"})
    assert response.status_code == 400
    assert "date_of_birth" in response.json()["error"]["fields"]


def test_a_birth_tomorrow_at_the_practice_is_in_the_future_even_when_utc_is_already_there(
    scheduler_client: APIClient,
) -> None:
    # 20:00 on March 8 in Chicago, the practice's zone; 02:00 on March 9 in UTC.
    with time_machine.travel(dt.datetime(2027, 3, 9, 2, 0, tzinfo=dt.UTC), tick=False):
        tomorrow = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "date_of_birth": "2027-03-09"})
        today = scheduler_client.post(
            "/api/v1/patients/", {**NEW_PATIENT, "date_of_birth": "2027-03-08", "record_number": ""}
        )
    assert tomorrow.status_code == 400
    assert list(tomorrow.json()["error"]["fields"]) == ["date_of_birth"]
    assert today.status_code == 201, today.json()


def test_a_record_number_belongs_to_one_patient(scheduler_client: APIClient) -> None:
    PatientFactory(record_number="MRN-0042")
    response = scheduler_client.post("/api/v1/patients/", NEW_PATIENT)
    assert response.status_code == 400
    assert "record_number" in response.json()["error"]["fields"]


def test_patients_without_a_record_number_do_not_clash(scheduler_client: APIClient) -> None:
    first = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "record_number": ""})
    second = scheduler_client.post(
        "/api/v1/patients/",
        {**NEW_PATIENT, "record_number": "", "phone": "+13125550198", "confirm_new": True},
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["record_number"] is None


@pytest.mark.parametrize(
    "query",
    ["lop", "Maria Lopez", "maria lo", "MRN-0042", "mrn-0042", "555-0199", "(312) 555-0199", "+13125550199"],
)
def test_it_finds_a_patient_by_name_phone_or_record_number(scheduler_client: APIClient, query: str) -> None:
    wanted = PatientFactory(
        first_name="Maria", last_name="Lopez", phone="+13125550199", record_number="MRN-0042"
    )
    PatientFactory(first_name="John", last_name="Smith", phone="+13125550111", record_number="MRN-0001")
    response = scheduler_client.get("/api/v1/patients/", {"search": query})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [wanted.id]


def test_a_search_matching_nobody_is_empty(scheduler_client: APIClient) -> None:
    PatientFactory(first_name="Maria", last_name="Lopez")
    response = scheduler_client.get("/api/v1/patients/", {"search": "zzz"})
    assert response.json()["results"] == []


def test_the_patient_list_costs_a_fixed_number_of_queries(
    scheduler_client: APIClient, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    PatientFactory.create_batch(20)
    with django_assert_max_num_queries(4):
        response = scheduler_client.get("/api/v1/patients/")
    assert response.json()["count"] == 20


def test_a_scheduler_corrects_a_patient(scheduler_client: APIClient) -> None:
    patient = PatientFactory(first_name="Mario")
    clinic = LocationFactory()
    response = scheduler_client.patch(
        f"/api/v1/patients/{patient.id}/", {"first_name": "Maria", "preferred_location": clinic.id}
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert (patient.first_name, patient.preferred_location_id) == ("Maria", clinic.id)


def test_a_correction_with_an_invalid_phone_is_a_400_and_changes_nothing(scheduler_client: APIClient) -> None:
    patient = PatientFactory(phone="+13125550100")
    response = scheduler_client.patch(f"/api/v1/patients/{patient.id}/", {"phone": "not a phone"})
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]
    patient.refresh_from_db()
    assert patient.phone == "+13125550100"


def test_a_patient_entered_by_mistake_is_deleted(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    assert scheduler_client.delete(f"/api/v1/patients/{patient.id}/").status_code == 204
    assert not Patient.objects.filter(pk=patient.pk).exists()


def test_a_patient_with_appointments_is_not_deleted(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory()
    response = scheduler_client.delete(f"/api/v1/patients/{appointment.patient_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == PatientHasAppointments.code
    assert Patient.objects.filter(pk=appointment.patient_id).exists()


def test_an_unknown_patient_is_a_404(scheduler_client: APIClient) -> None:
    assert scheduler_client.get("/api/v1/patients/999999/").status_code == 404


def test_a_record_number_differing_only_in_case_is_the_same_record(scheduler_client: APIClient) -> None:
    PatientFactory(record_number="MRN-0042")
    created = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "record_number": "mrn-0042"})
    other = PatientFactory(record_number="MRN-0043")
    changed = scheduler_client.patch(f"/api/v1/patients/{other.pk}/", {"record_number": "Mrn-0042"})
    for response in (created, changed):
        assert response.status_code == 400, response.json()
        assert list(response.json()["error"]["fields"]) == ["record_number"]
    assert Patient.objects.filter(record_number__iexact="mrn-0042").count() == 1


@pytest.mark.parametrize(
    "same",
    [
        {"first_name": "MARIA", "last_name": "lopez ", "phone": "+13125550100"},
        {"first_name": "Mary", "last_name": "Lopez-Garcia", "phone": "+13125550199"},
    ],
    ids=["name and birth date", "phone and birth date"],
)
def test_a_possible_duplicate_is_a_409_showing_the_match(
    scheduler_client: APIClient, same: dict[str, str]
) -> None:
    existing = PatientFactory(
        first_name="Maria", last_name="Lopez", date_of_birth=dt.date(1961, 4, 12), phone="+13125550199"
    )
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, **same, "record_number": ""})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == PossibleDuplicate.code
    assert [match["id"] for match in error["matches"]] == [existing.pk]
    assert error["matches"][0]["date_of_birth"] == "1961-04-12"
    assert Patient.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="patient", patient_id=existing.pk, action="read").exists()


def test_a_possible_duplicate_is_created_when_the_scheduler_confirms_it_is_someone_new(
    scheduler_client: APIClient,
) -> None:
    PatientFactory(first_name="Maria", last_name="Lopez", date_of_birth=dt.date(1961, 4, 12))
    response = scheduler_client.post("/api/v1/patients/", {**NEW_PATIENT, "confirm_new": True})
    assert response.status_code == 201, response.json()
    assert "confirm_new" not in response.json()
    assert Patient.objects.filter(last_name="Lopez").count() == 2


def test_the_same_name_with_another_birth_date_is_no_duplicate(scheduler_client: APIClient) -> None:
    PatientFactory(first_name="Maria", last_name="Lopez", date_of_birth=dt.date(1961, 4, 13))
    assert scheduler_client.post("/api/v1/patients/", NEW_PATIENT).status_code == 201
