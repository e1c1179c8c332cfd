"""Booking or moving a visit says whether the patient will be texted about it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Patient
from booking.selectors import TextsWithheld, patient_texts
from notifications import reactions
from notifications.models import Message, SuppressedReason
from tests.factories import AppointmentFactory, BookablePractice, PatientFactory

pytestmark = pytest.mark.django_db

STOPPED = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)


def _book(client: APIClient, practice: BookablePractice, patient: Patient) -> Any:
    return client.post(
        "/api/v1/appointments/",
        {
            "patient": patient.id,
            "surgeon": practice.surgeon.id,
            "location": practice.location.id,
            "appointment_type": practice.visit.code,
            "tier": "standard",
            "start": practice.at(9).isoformat(),
        },
    )


def test_booking_a_patient_who_consented_says_they_will_be_texted(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = _book(scheduler_client, bookable, PatientFactory(sms_consent=True))
    assert response.status_code == 201, response.json()
    assert response.json()["texts"] == {
        "will_send": True,
        "withheld": None,
        "notice": "The patient will be texted a confirmation and reminders.",
    }


def test_booking_a_patient_without_sms_consent_says_no_texts_will_be_sent(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = _book(scheduler_client, bookable, PatientFactory(sms_consent=False))
    assert response.status_code == 201, response.json()
    texts = response.json()["texts"]
    assert (texts["will_send"], texts["withheld"]) == (False, "no_consent")
    assert texts["notice"].startswith("No texts will be sent: the patient has not consented to SMS.")


def test_booking_a_patient_who_replied_stop_says_no_texts_will_be_sent_despite_consent(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    patient = PatientFactory(sms_consent=True, sms_opted_out_at=STOPPED)
    texts = _book(scheduler_client, bookable, patient).json()["texts"]
    assert (texts["will_send"], texts["withheld"]) == (False, "opted_out")
    assert texts["notice"].startswith("No texts will be sent: the patient replied STOP.")


def test_moving_the_visit_of_a_patient_without_consent_says_no_texts_will_be_sent(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    visit = _book(scheduler_client, bookable, PatientFactory(sms_consent=False)).json()
    response = scheduler_client.post(
        f"/api/v1/appointments/{visit['id']}/reschedule/", {"start": bookable.at(10).isoformat()}
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["texts"]["will_send"], response.json()["texts"]["withheld"]) == (
        False,
        "no_consent",
    )


def test_reading_a_visit_later_carries_no_texts_notice(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    visit = _book(scheduler_client, bookable, PatientFactory(sms_consent=False)).json()
    assert "texts" not in scheduler_client.get(f"/api/v1/appointments/{visit['id']}/").json()


def test_the_texts_notice_is_in_the_schema_of_booking_and_moving(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    for path in ["/api/v1/appointments/", "/api/v1/appointments/{id}/reschedule/"]:
        created = schema["paths"][path]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
        assert created["$ref"].endswith("/AppointmentBookedOutput")
    booked = schema["components"]["schemas"]["AppointmentBookedOutput"]
    assert booked["properties"]["texts"]["allOf"][0]["$ref"].endswith("/TextsOutput")
    texts = schema["components"]["schemas"]["TextsOutput"]
    assert set(texts["properties"]) == {"will_send", "withheld", "notice"}


@pytest.mark.parametrize(
    ("consent", "stopped"), [(True, None), (False, None), (True, STOPPED), (False, STOPPED)]
)
def test_the_notice_agrees_with_what_the_outbox_writes(consent: bool, stopped: dt.datetime | None) -> None:
    patient = PatientFactory(sms_consent=consent, sms_opted_out_at=stopped)
    appointment = AppointmentFactory(patient=patient, start=dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC), tick=False):
        reactions.visit_booked(appointment=appointment)
    reasons = {m.suppressed_reason for m in Message.objects.filter(appointment=appointment)}
    notice = patient_texts(patient=patient)
    assert reasons == {notice.withheld or ""}
    assert set(TextsWithheld.ALL) <= set(SuppressedReason.values)
