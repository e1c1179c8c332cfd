"""Twilio's webhooks: signed inbound texts (STOP, START, HELP, YES, C, R, anything else) and
delivery status callbacks."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from booking.models import Appointment, AppointmentStatus, Patient
from notifications import consent, reactions, sending, tasks
from notifications.models import (
    InboundMessage,
    Message,
    MessageKind,
    MessageStatus,
    SuppressedReason,
    WorklistItem,
)
from notifications.transports import SentSms
from tests.factories import AppointmentFactory, PatientFactory
from tests.notifications.conftest import MONDAY_MORNING, signed_post, text_from
from tests.notifications.fake_twilio import AUTH_TOKEN

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def monday() -> Any:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


def _sweep_a_minute_later() -> None:
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=1), tick=False):
        tasks.sweep()


@pytest.fixture
def visit() -> Appointment:
    appointment = AppointmentFactory(start=VISIT)
    reactions.visit_booked(appointment=appointment)
    return appointment


def test_a_forged_signature_is_refused_and_changes_nothing(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    data = {"MessageSid": "SMFORGED", "From": str(visit.patient.phone), "Body": "STOP"}
    response = signed_post(anonymous_client, "/webhooks/twilio/inbound/", data, token="not-the-token")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is None
    assert not InboundMessage.objects.exists()


def test_a_missing_signature_is_refused(anonymous_client: APIClient, visit: Appointment) -> None:
    response = anonymous_client.post(
        "/webhooks/twilio/inbound/",
        f"MessageSid=SM1&From={visit.patient.phone}&Body=STOP".replace("+", "%2B"),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 403
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is None


def test_a_signature_for_another_url_is_refused(anonymous_client: APIClient, visit: Appointment) -> None:
    # Signed for the Host this request claims, not the PUBLIC_BASE_URL Twilio calls.
    data = {"MessageSid": "SM2", "From": str(visit.patient.phone), "Body": "STOP"}
    response = signed_post(anonymous_client, "/webhooks/twilio/inbound/", data, base="http://testserver")
    assert response.status_code == 403
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is None


def test_stop_opts_the_patient_out_and_a_later_reminder_is_suppressed(
    anonymous_client: APIClient, visit: Appointment, outbox: list[SentSms]
) -> None:
    response = text_from(anonymous_client, visit.patient, "  stop ")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is not None
    with time_machine.travel(VISIT - dt.timedelta(hours=23), tick=False):
        tasks.sweep()
    assert outbox == []
    reminders = Message.objects.filter(appointment=visit, kind=MessageKind.REMINDER)
    assert {(m.status, m.suppressed_reason) for m in reminders} == {
        (MessageStatus.SUPPRESSED, SuppressedReason.OPTED_OUT)
    }


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE", "OptOut"])
def test_every_twilio_opt_out_word_opts_out(
    anonymous_client: APIClient, visit: Appointment, word: str
) -> None:
    text_from(anonymous_client, visit.patient, word)
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is not None


def test_a_visit_booked_after_stop_is_recorded_but_not_texted(
    anonymous_client: APIClient, visit: Appointment, outbox: list[SentSms]
) -> None:
    text_from(anonymous_client, visit.patient, "STOP")
    later = AppointmentFactory(patient=visit.patient, start=VISIT + dt.timedelta(days=3))
    reactions.visit_booked(appointment=later)
    _sweep_a_minute_later()
    assert outbox == []
    assert set(Message.objects.filter(appointment=later).values_list("status", flat=True)) == {
        MessageStatus.SUPPRESSED
    }


def test_start_subscribes_again(
    anonymous_client: APIClient, visit: Appointment, outbox: list[SentSms]
) -> None:
    text_from(anonymous_client, visit.patient, "STOP")
    text_from(anonymous_client, visit.patient, "Start")
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is None
    later = AppointmentFactory(patient=visit.patient, start=VISIT + dt.timedelta(days=3))
    reactions.visit_booked(appointment=later)
    _sweep_a_minute_later()
    assert [sms.to for sms in outbox] == [str(visit.patient.phone)]


def test_help_answers_with_the_practice_name_and_phone(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    response = text_from(anonymous_client, visit.patient, "help")
    body = response.content.decode()
    assert "<Message>" in body
    assert "Lakeside Spine" in body and "+13125550100" in body


@pytest.mark.parametrize("reply", ["YES", " yes ", "Y", "c", "C"])
def test_yes_or_c_confirms_the_next_upcoming_visit(
    anonymous_client: APIClient, visit: Appointment, reply: str
) -> None:
    later = AppointmentFactory(patient=visit.patient, start=VISIT + dt.timedelta(days=7))
    response = text_from(anonymous_client, visit.patient, reply)
    visit.refresh_from_db()
    later.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    assert visit.confirmed_at == MONDAY_MORNING
    assert later.status == AppointmentStatus.BOOKED
    assert "is confirmed" in response.content.decode()


def test_yes_without_an_upcoming_visit_goes_to_the_worklist(anonymous_client: APIClient) -> None:
    patient = PatientFactory()
    text_from(anonymous_client, patient, "YES")
    assert WorklistItem.objects.get(patient=patient).kind == "reply"


def test_r_asks_for_a_call_back_on_the_worklist(anonymous_client: APIClient, visit: Appointment) -> None:
    response = text_from(anonymous_client, visit.patient, "r")
    item = WorklistItem.objects.get(patient=visit.patient)
    assert item.kind == "call_back"
    assert "call you" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_any_other_reply_goes_to_the_worklist(anonymous_client: APIClient, visit: Appointment) -> None:
    text_from(anonymous_client, visit.patient, "Can I bring my MRI on a USB stick?")
    item = WorklistItem.objects.get(patient=visit.patient)
    assert item.kind == "reply"
    assert item.inbound is not None and "MRI" in item.inbound.body
    assert "MRI" not in item.summary


def test_twilio_retrying_the_same_inbound_webhook_acts_once(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    data = {"MessageSid": "SMDUPLICATE", "From": str(visit.patient.phone), "Body": "something else"}
    signed_post(anonymous_client, "/webhooks/twilio/inbound/", data)
    signed_post(anonymous_client, "/webhooks/twilio/inbound/", data)
    assert WorklistItem.objects.count() == 1


def test_a_text_from_an_unknown_number_goes_to_the_worklist(anonymous_client: APIClient) -> None:
    data = {"MessageSid": "SMUNKNOWN", "From": "+13125559999", "Body": "YES"}
    assert signed_post(anonymous_client, "/webhooks/twilio/inbound/", data).status_code == 200
    assert WorklistItem.objects.get().patient is None


# --- Status callbacks ----------------------------------------------------------------------------


def _sent(visit: Appointment) -> Message:
    confirmation = Message.objects.get(appointment=visit, kind=MessageKind.CONFIRMATION)
    sending.message_send(message_id=confirmation.pk)
    confirmation.refresh_from_db()
    return confirmation


def _status(client: APIClient, message: Message, status: str, **extra: str) -> Any:
    data = {"MessageSid": str(message.provider_sid), "MessageStatus": status, **extra}
    return signed_post(client, f"/webhooks/twilio/status/?message={message.pk}", data)


def test_a_delivery_callback_marks_the_text_delivered(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    message = _sent(visit)
    assert _status(anonymous_client, message, "sent").status_code == 200
    assert _status(anonymous_client, message, "delivered").status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at == MONDAY_MORNING


def test_a_late_sent_callback_does_not_undo_delivered(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    message = _sent(visit)
    _status(anonymous_client, message, "delivered")
    _status(anonymous_client, message, "sent")
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_an_undelivered_callback_records_the_code_and_reaches_the_worklist(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    message = _sent(visit)
    _status(anonymous_client, message, "undelivered", ErrorCode="30003")
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.UNDELIVERED, "30003")
    assert WorklistItem.objects.get(message=message).kind == "failed_message"


def test_a_failed_callback_with_21610_opts_the_patient_out(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    message = _sent(visit)
    _status(anonymous_client, message, "failed", ErrorCode="21610")
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is not None


def test_a_forged_status_callback_changes_nothing(anonymous_client: APIClient, visit: Appointment) -> None:
    message = _sent(visit)
    data = {"MessageSid": str(message.provider_sid), "MessageStatus": "failed"}
    response = signed_post(anonymous_client, "/webhooks/twilio/status/", data, token="forged")
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED


def test_a_status_callback_records_a_text_whose_worker_died_before_saving_its_sid(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    message = Message.objects.get(appointment=visit, kind=MessageKind.CONFIRMATION)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, claimed_at=MONDAY_MORNING)
    data = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "sent"}
    assert (
        signed_post(anonymous_client, f"/webhooks/twilio/status/?message={message.pk}", data).status_code
        == 200
    )
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (MessageStatus.SENT, "SM" + "f" * 32)
    tasks.sweep()  # not stranded any more: nothing to resend
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_status_callback_for_an_unknown_sid_changes_nothing(anonymous_client: APIClient) -> None:
    data = {"MessageSid": "SMUNKNOWN", "MessageStatus": "delivered"}
    assert signed_post(anonymous_client, "/webhooks/twilio/status/", data).status_code == 200
    assert not Message.objects.exists()


def test_an_inbound_webhook_without_a_message_sid_is_a_400_naming_it(anonymous_client: APIClient) -> None:
    response = signed_post(
        anonymous_client, "/webhooks/twilio/inbound/", {"From": "+13125550100", "Body": "YES"}
    )
    assert response.status_code == 400
    assert "MessageSid" in response.json()["error"]["fields"]
    assert not InboundMessage.objects.exists()


def test_a_status_webhook_without_a_status_is_a_400_naming_it(anonymous_client: APIClient) -> None:
    response = signed_post(anonymous_client, "/webhooks/twilio/status/", {"MessageSid": "SM1"})
    assert response.status_code == 400
    assert "MessageStatus" in response.json()["error"]["fields"]


def test_a_signature_over_another_query_string_is_refused(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    message = _sent(visit)
    data = {"MessageSid": str(message.provider_sid), "MessageStatus": "failed"}
    url = f"https://sms.example.org/webhooks/twilio/status/?message={message.pk}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, data)
    response = anonymous_client.post(
        f"/webhooks/twilio/status/?message={message.pk + 1}",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED


def test_the_signature_is_checked_against_a_public_url_with_a_path_prefix(
    anonymous_client: APIClient, visit: Appointment, settings: Any
) -> None:
    # Served under /practice by a proxy that passes the prefix on as SCRIPT_NAME.
    settings.PUBLIC_BASE_URL = "https://sms.example.org/practice"
    data = {"MessageSid": "SMPREFIX", "From": str(visit.patient.phone), "Body": "STOP"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "https://sms.example.org/practice/webhooks/twilio/inbound/", data
    )
    response = anonymous_client.post(
        "/webhooks/twilio/inbound/",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
        SCRIPT_NAME="/practice",
    )
    assert response.status_code == 200
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is not None


@pytest.mark.parametrize("field", ["MessageSid", "From"])
def test_an_inbound_id_with_a_nul_byte_is_a_400_naming_it(anonymous_client: APIClient, field: str) -> None:
    data = {"MessageSid": "SMNUL", "From": "+13125550100", "Body": "STOP", field: "SM\x00X"}
    response = signed_post(anonymous_client, "/webhooks/twilio/inbound/", data)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not InboundMessage.objects.exists()


def test_an_inbound_body_with_a_nul_byte_is_still_heard(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    data = {"MessageSid": "SMNULBODY", "From": str(visit.patient.phone), "Body": "ST\x00OP"}
    assert signed_post(anonymous_client, "/webhooks/twilio/inbound/", data).status_code == 200
    assert Patient.objects.get(pk=visit.patient_id).sms_opted_out_at is not None


@pytest.mark.parametrize("query", ["?message=%C2%B2", "?message=99999999999999999999999", "?message=-1"])
def test_a_status_callback_with_a_malformed_message_id_is_matched_by_sid_alone(
    anonymous_client: APIClient, visit: Appointment, query: str
) -> None:
    message = _sent(visit)
    data = {"MessageSid": str(message.provider_sid), "MessageStatus": "delivered", "ErrorCode": "\x00"}
    assert signed_post(anonymous_client, f"/webhooks/twilio/status/{query}", data).status_code == 200
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.DELIVERED, "")


def test_a_status_sid_with_a_nul_byte_is_a_400_naming_it(anonymous_client: APIClient) -> None:
    data = {"MessageSid": "SM\x00X", "MessageStatus": "delivered"}
    response = signed_post(anonymous_client, "/webhooks/twilio/status/", data)
    assert response.status_code == 400
    assert "MessageSid" in response.json()["error"]["fields"]


def test_stop_from_a_family_phone_stops_texts_to_everyone_on_it(
    anonymous_client: APIClient, visit: Appointment, outbox: list[SentSms]
) -> None:
    sibling = PatientFactory(phone=visit.patient.phone)
    sibling_visit = AppointmentFactory(patient=sibling, start=VISIT + dt.timedelta(days=1))
    reactions.visit_booked(appointment=sibling_visit)
    text_from(anonymous_client, visit.patient, "STOP")
    assert Patient.objects.get(pk=sibling.pk).sms_opted_out_at is not None
    _sweep_a_minute_later()
    assert outbox == []
    assert set(Message.objects.filter(appointment=sibling_visit).values_list("status", flat=True)) == {
        MessageStatus.SUPPRESSED
    }
    text_from(anonymous_client, visit.patient, "START")
    assert Patient.objects.get(pk=sibling.pk).sms_opted_out_at is None


def _consent_history(patient: Patient) -> list[tuple[bool, str | None]]:
    """(opted out, change reason) of each history row, oldest first."""
    return [
        (row.sms_opted_out_at is not None, row.history_change_reason)
        for row in Patient.history.filter(id=patient.pk).order_by("history_date", "history_id")
    ]


def test_stop_and_start_are_kept_in_each_patients_history_with_how_they_came(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    sibling = PatientFactory(phone=visit.patient.phone)
    text_from(anonymous_client, visit.patient, "STOP")
    text_from(anonymous_client, visit.patient, "STOP")  # a second STOP changes nothing more
    text_from(anonymous_client, visit.patient, "START")
    for patient in (visit.patient, sibling):
        assert _consent_history(patient)[1:] == [
            (True, consent.OPTED_OUT_BY_REPLY),
            (False, consent.OPTED_IN_BY_REPLY),
        ]


def test_an_opt_out_reported_by_twilio_is_kept_in_the_history_as_such(
    anonymous_client: APIClient, visit: Appointment
) -> None:
    _status(anonymous_client, _sent(visit), "failed", ErrorCode="21610")
    assert _consent_history(visit.patient)[1:] == [(True, consent.OPTED_OUT_BY_CARRIER)]
