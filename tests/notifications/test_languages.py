"""The patient's language: set by a scheduler through the API or by the patient replying ESPAÑOL
or ENGLISH; every text, HELP answer and reply follows it, and STOP works whatever it is."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from babel.messages.pofile import read_po
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus, Patient
from notifications import reactions
from notifications.models import Message, MessageKind
from tests.factories import AppointmentFactory, PatientFactory
from tests.notifications.conftest import MONDAY_MORNING, text_from

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)  # Monday 10:00 in Chicago


@pytest.fixture(autouse=True)
def monday() -> Any:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


def _visit(language: str) -> Appointment:
    appointment = AppointmentFactory(
        start=VISIT, patient=PatientFactory(language=language), location__timezone="America/Chicago"
    )
    reactions.visit_booked(appointment=appointment)
    return appointment


def test_a_spanish_speaking_patients_confirmation_and_reminders_are_in_spanish() -> None:
    visit = _visit("es")
    texts = Message.objects.filter(appointment=visit)
    assert texts.count() >= 2
    for text in texts:
        assert " su cita en " in text.body
        assert "lun 8 mar, 10:00" in text.body
        assert text.body.endswith("Responda STOP para darse de baja.")
    confirmation = texts.get(kind=MessageKind.CONFIRMATION).body
    assert (
        "Responda SI para confirmar, o cambie o anule su cita en https://sms.example.org/v/" in confirmation
    )


def test_replying_espanol_switches_the_patient_to_spanish_and_answers_in_spanish(
    anonymous_client: APIClient,
) -> None:
    visit = _visit("en")
    response = text_from(anonymous_client, visit.patient, "Español")
    assert "desde ahora le escribiremos en español" in response.content.decode()
    assert Patient.objects.get(pk=visit.patient_id).language == "es"
    assert visit.patient.history.first().history_change_reason == "Replied Español by SMS"  # type: ignore[attr-defined]


def test_replying_english_switches_back(anonymous_client: APIClient) -> None:
    visit = _visit("es")
    response = text_from(anonymous_client, visit.patient, "ENGLISH")
    assert "we will text you in English from now on" in response.content.decode()
    assert Patient.objects.get(pk=visit.patient_id).language == "en"


def test_help_is_answered_in_the_patients_language_and_offers_the_other(anonymous_client: APIClient) -> None:
    spanish = _visit("es")
    body = text_from(anonymous_client, spanish.patient, "AYUDA").content.decode()
    assert "llámenos al +13125550100".replace("á", "a") in body
    assert "reply ENGLISH" in body
    english = AppointmentFactory(patient=PatientFactory(phone="+13125559999"), start=VISIT)
    reactions.visit_booked(appointment=english)
    assert "responda ESPAÑOL" in text_from(anonymous_client, english.patient, "HELP").content.decode()


def test_si_confirms_like_yes_and_the_answer_is_in_spanish(anonymous_client: APIClient) -> None:
    visit = _visit("es")
    body = text_from(anonymous_client, visit.patient, "Sí").content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    assert "gracias, su cita del lun 8 mar, 10:00 esta confirmada" in body


def test_stop_opts_a_spanish_speaking_patient_out(anonymous_client: APIClient) -> None:
    visit = _visit("es")
    text_from(anonymous_client, visit.patient, "STOP")
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at == MONDAY_MORNING


def test_a_scheduler_sets_the_language_through_the_api(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    response = scheduler_client.patch(f"/api/v1/patients/{patient.pk}/", {"language": "es"}, format="json")
    assert response.status_code == 200
    assert response.json()["language"] == "es"
    refused = scheduler_client.patch(f"/api/v1/patients/{patient.pk}/", {"language": "fr"}, format="json")
    assert refused.status_code == 400
    assert "language" in refused.json()["error"]["fields"]


def test_a_patient_created_with_a_language_keeps_it(scheduler_client: APIClient) -> None:
    response = scheduler_client.post(
        "/api/v1/patients/",
        {
            "first_name": "Rosa",
            "last_name": "Delgado",
            "date_of_birth": "1970-05-17",
            "phone": "+13125550177",
            "language": "es",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Patient.objects.get(pk=response.json()["id"]).language == "es"


def test_the_spanish_catalog_translates_every_string_with_the_same_placeholders() -> None:
    path = Path(__file__).resolve().parents[2] / "notifications/locale/es/LC_MESSAGES/django.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale="es")
    placeholders = re.compile(r"%\(\w+\)[sd]")
    for message in catalog:
        if not message.id:
            continue
        # A plural message has a tuple of ids (singular, plural) and one string per plural form.
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), message.id
        assert "fuzzy" not in message.flags, message.id
        for string in strings:
            assert sorted(placeholders.findall(ids[-1])) == sorted(placeholders.findall(string)), message.id
