"""A closure that strands booked visits reaches their patients: with notify_patients each one with
consent gets one text with a link to pick a new time, the others reach the worklist, and so does
anyone who has not moved their visit a day later. A dry run answers all that and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus
from booking.services import appointment_reschedule
from locations.models import Closure, Surgeon
from notifications.models import Message, MessageKind, WorklistItem, WorklistKind
from notifications.stranded import stranded_unanswered_scan
from notifications.transports import SentSms
from notifications.visit_links import visit_link_token
from notifications.visit_page.services import visit_times_offered
from tests.factories import BlockFactory, PatientFactory
from tests.notifications.conftest import MONDAY_MORNING, book, clinic

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)  # Monday 10:00 in Chicago
CLOSED = {"start_date": "2027-03-08", "end_date": "2027-03-08", "reason": "Snow storm"}


@pytest.fixture(autouse=True)
def monday() -> Any:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


@pytest.fixture
def stranded() -> tuple[Appointment, Appointment]:
    location, surgeon = clinic(name="Lakeview Clinic")
    texted = book(location=location, surgeon=surgeon, start=VISIT, patient=PatientFactory(language="es"))
    silent = book(
        location=location,
        surgeon=surgeon,
        start=VISIT + dt.timedelta(hours=2),
        patient=PatientFactory(sms_consent=False),
    )
    return texted, silent


def _close(client: APIClient, visit: Appointment, path: str = "", **extra: Any) -> Any:
    return client.post(
        f"/api/v1/locations/{visit.location_id}/closures/{path}", {**CLOSED, **extra}, format="json"
    )


def test_a_dry_run_answers_the_stranded_visits_and_their_texts_and_changes_nothing(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment], outbox: list[SentSms]
) -> None:
    texted, silent = stranded
    messages_before = Message.objects.count()
    response = _close(admin_client_api, texted, "?dry_run=true", notify_patients=True)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True and body["id"] is None
    notices = {notice["appointment"]: notice for notice in body["notices"]}
    assert notices[texted.pk]["channel"] == "sms"
    assert notices[texted.pk]["text"].startswith("Lakeside Spine: lo sentimos, su cita del lun 8 mar, 10:00")
    assert "https://sms.example.org/v/xxxx" in notices[texted.pk]["text"]
    assert notices[texted.pk]["segments"] <= 2
    assert notices[silent.pk] | {"text": None} == notices[silent.pk]
    assert notices[silent.pk]["channel"] == "worklist"
    assert notices[silent.pk]["why_not_texted"] == "no_consent"
    assert not Closure.objects.exists()
    assert Message.objects.count() == messages_before
    assert not WorklistItem.objects.exists()


def test_notify_patients_texts_each_consenting_patient_once_and_puts_the_rest_on_the_worklist(
    admin_client_api: APIClient,
    stranded: tuple[Appointment, Appointment],
    outbox: list[SentSms],
    django_capture_on_commit_callbacks: Any,
) -> None:
    texted, silent = stranded
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _close(admin_client_api, texted, notify_patients=True)
    assert response.status_code == 201
    assert Closure.objects.count() == 1
    assert [sms.to for sms in outbox] == [str(texted.patient.phone)]
    assert "/v/" in outbox[0].body
    stranded_texts = Message.objects.filter(kind=MessageKind.STRANDED)
    assert {m.appointment_id for m in stranded_texts.exclude(status="suppressed")} == {texted.pk}
    items = WorklistItem.objects.filter(kind=WorklistKind.CLOSURE)
    assert [item.patient_id for item in items] == [silent.patient_id]


def test_without_notify_patients_nobody_is_texted(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment], outbox: list[SentSms]
) -> None:
    texted, _ = stranded
    outbox.clear()
    response = _close(admin_client_api, texted)
    assert response.status_code == 201
    assert response.json()["notices"] == []
    assert not Message.objects.filter(kind=MessageKind.STRANDED).exists()


def test_a_visit_stranded_before_this_closure_is_not_texted_again(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment]
) -> None:
    texted, _ = stranded
    _close(admin_client_api, texted, notify_patients=True)
    response = _close(admin_client_api, texted, notify_patients=True, reason="Still snowing")
    assert response.status_code == 201
    assert response.json()["notices"] == []


def test_a_scheduler_cannot_close_a_location(
    scheduler_client: APIClient, stranded: tuple[Appointment, Appointment]
) -> None:
    texted, _ = stranded
    assert _close(scheduler_client, texted, "?dry_run=true", notify_patients=True).status_code == 403


def test_a_malformed_dry_run_is_a_400_naming_it(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment]
) -> None:
    texted, _ = stranded
    response = _close(admin_client_api, texted, "?dry_run=perhaps")
    assert response.status_code == 400
    assert "dry_run" in response.json()["error"]["fields"]


def test_a_patient_who_does_not_move_the_visit_within_a_day_reaches_the_worklist_once(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment]
) -> None:
    texted, _ = stranded
    _close(admin_client_api, texted, notify_patients=True)
    assert stranded_unanswered_scan(now=MONDAY_MORNING + dt.timedelta(hours=23)) == 0
    assert stranded_unanswered_scan(now=MONDAY_MORNING + dt.timedelta(hours=25)) == 1
    assert stranded_unanswered_scan(now=MONDAY_MORNING + dt.timedelta(hours=26)) == 0
    item = WorklistItem.objects.get(message__kind=MessageKind.STRANDED)
    assert item.patient_id == texted.patient_id


def test_a_patient_who_moved_the_visit_does_not_reach_the_worklist(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment]
) -> None:
    texted, _ = stranded
    _close(admin_client_api, texted, notify_patients=True)
    appointment_reschedule(appointment=texted, start=VISIT + dt.timedelta(days=1))
    assert Appointment.objects.get(pk=texted.pk).status == AppointmentStatus.CANCELLED
    assert stranded_unanswered_scan(now=MONDAY_MORNING + dt.timedelta(hours=25)) == 0


def test_deactivating_a_surgeon_with_notify_patients_texts_the_stranded_patients(
    admin_client_api: APIClient,
    stranded: tuple[Appointment, Appointment],
    outbox: list[SentSms],
    django_capture_on_commit_callbacks: Any,
) -> None:
    texted, silent = stranded
    BlockFactory(location=texted.location, weekday=0, start=dt.time(8), end=dt.time(17))  # a colleague
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_api.patch(
            f"/api/v1/surgeons/{texted.surgeon_id}/?notify_patients=true", {"is_active": False}, format="json"
        )
    assert response.status_code == 200, response.json()
    channels = {notice["appointment"]: notice["channel"] for notice in response.json()["notices"]}
    assert channels == {texted.pk: "sms", silent.pk: "worklist"}
    assert [sms.to for sms in outbox] == [str(texted.patient.phone)]


def test_a_patient_with_no_time_to_pick_is_called_from_the_worklist_not_sent_a_dead_link(
    admin_client_api: APIClient,
    stranded: tuple[Appointment, Appointment],
    outbox: list[SentSms],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # A deactivated clinic has no times to offer: its link would only say "call us".
    texted, silent = stranded
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_api.patch(
            f"/api/v1/locations/{texted.location_id}/?notify_patients=true",
            {"is_active": False},
            format="json",
        )
    assert response.status_code == 200, response.json()
    notices = {notice["appointment"]: notice for notice in response.json()["notices"]}
    assert notices[texted.pk]["channel"] == "worklist"
    assert notices[texted.pk]["why_not_texted"] == "no_times"
    assert notices[silent.pk]["why_not_texted"] == "no_consent"
    assert outbox == []
    items = WorklistItem.objects.filter(kind=WorklistKind.CLOSURE).order_by("patient_id")
    assert sorted(item.patient_id for item in items) == sorted([texted.patient_id, silent.patient_id])


def test_a_stranded_visit_past_its_window_is_still_offered_the_next_two_weeks(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment]
) -> None:
    # Booked long ago: its tier window has passed; the closure is the practice's doing, not the patient's.
    texted, _ = stranded
    Appointment.objects.filter(pk=texted.pk).update(booked_at=MONDAY_MORNING - dt.timedelta(days=30))
    _close(admin_client_api, texted, notify_patients=True)
    visit = Appointment.objects.select_related("surgeon", "location", "appointment_type", "tier").get(
        pk=texted.pk
    )
    offered = visit_times_offered(visit=visit, now=MONDAY_MORNING)
    assert offered
    assert all(MONDAY_MORNING <= slot.start < MONDAY_MORNING + dt.timedelta(days=14) for slot in offered)


def test_deactivating_a_location_without_notify_patients_texts_nobody(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment], outbox: list[SentSms]
) -> None:
    texted, _ = stranded
    outbox.clear()
    response = admin_client_api.patch(
        f"/api/v1/locations/{texted.location_id}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert "notices" not in response.json()
    assert not Message.objects.filter(kind=MessageKind.STRANDED).exists()


def test_the_stranded_patient_of_a_deactivated_surgeon_is_offered_the_locations_other_surgeons(
    stranded: tuple[Appointment, Appointment],
) -> None:
    texted, _ = stranded
    other = BlockFactory(location=texted.location, weekday=0, start=dt.time(8), end=dt.time(17)).surgeon
    Surgeon.objects.filter(pk=texted.surgeon_id).update(is_active=False)
    visit = Appointment.objects.select_related("surgeon", "location", "appointment_type", "tier").get(
        pk=texted.pk
    )
    offered = visit_times_offered(visit=visit, now=MONDAY_MORNING)
    assert offered
    assert {slot.surgeon_id for slot in offered} == {other.pk}


def test_the_page_of_a_stranded_visit_offers_a_new_time_but_no_confirm(
    admin_client_api: APIClient, stranded: tuple[Appointment, Appointment], client: Any
) -> None:
    texted, _ = stranded
    _close(admin_client_api, texted, notify_patients=True)
    path = f"/v/{visit_link_token(appointment=texted)}"
    client.post(path, {"day": "17", "month": "5", "year": "1970"})
    page = client.get(path).content.decode()
    assert "no puede realizarse" in page
    assert "Confirmar" not in page
    assert "Elegir otra hora" in page
    client.post(f"{path}/confirm")
    assert Appointment.objects.get(pk=texted.pk).status == AppointmentStatus.BOOKED
