"""Sending through the real twilio-python client to a fake Twilio: retries and final failures."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from booking.models import Patient
from notifications import reactions, sending, tasks
from notifications.models import Message, MessageKind, MessageStatus, SuppressedReason, WorklistItem
from tests.factories import AppointmentFactory
from tests.notifications.conftest import MONDAY_MORNING
from tests.notifications.fake_twilio import ACCOUNT_SID, FROM_NUMBER, FakeTwilio

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_twilio")]

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def confirmation() -> Message:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment = AppointmentFactory(start=VISIT)
        reactions.visit_booked(appointment=appointment)
    return Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)


def _send(message: Message, at: dt.datetime = MONDAY_MORNING) -> float | None:
    with time_machine.travel(at, tick=False):
        retry_in = sending.message_send(message_id=message.pk)
    message.refresh_from_db()
    return retry_in


def test_a_text_reaches_twilio_with_from_body_and_a_status_callback(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    _send(confirmation)
    [sms] = fake_twilio.received
    assert (sms.to, sms.from_, sms.body) == (confirmation.to, FROM_NUMBER, confirmation.body)
    callback = urlparse(sms.status_callback)
    assert callback.path == "/webhooks/twilio/status/"
    assert parse_qs(callback.query)["message"] == [str(confirmation.pk)]
    assert confirmation.status == MessageStatus.QUEUED
    assert confirmation.provider_sid == sms.sid


def test_the_client_authenticates_with_the_account_sid_and_token(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    _send(confirmation)
    assert fake_twilio.requests == [("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")]


def test_a_wrong_auth_token_fails_the_text_instead_of_crashing(
    fake_twilio: FakeTwilio, confirmation: Message, settings: object
) -> None:
    settings.TWILIO_AUTH_TOKEN = "wrong"  # type: ignore[attr-defined]
    _send(confirmation)
    assert confirmation.status == MessageStatus.FAILED
    assert confirmation.error_code == "20003"
    assert fake_twilio.received == []


@pytest.mark.parametrize("code", [20500, 20429])
def test_a_transient_error_is_retried_later_with_backoff(
    fake_twilio: FakeTwilio, confirmation: Message, code: int
) -> None:
    fake_twilio.fail_next(code)
    retry_in = _send(confirmation)
    assert retry_in is not None and 15 <= retry_in <= 45  # 30 s, with jitter
    assert confirmation.status == MessageStatus.PENDING
    assert confirmation.error_code == str(code)
    assert confirmation.due_at == MONDAY_MORNING + dt.timedelta(seconds=retry_in)
    _send(confirmation, at=confirmation.due_at)
    assert confirmation.status == MessageStatus.QUEUED
    assert len(fake_twilio.received) == 1


def test_the_backoff_grows_with_each_attempt(fake_twilio: FakeTwilio, confirmation: Message) -> None:
    fake_twilio.fail_next(20500, times=3)
    delays = []
    at = MONDAY_MORNING
    for _ in range(3):
        delay = _send(confirmation, at=at)
        assert delay is not None
        delays.append(delay)
        at = confirmation.due_at
    assert 15 <= delays[0] <= 45 and 30 <= delays[1] <= 90 and 60 <= delays[2] <= 180


def test_a_text_that_keeps_failing_is_retried_until_its_deadline_then_fails_to_the_worklist(
    fake_twilio: FakeTwilio, confirmation: Message, settings: object
) -> None:
    settings.SMS_RETRY_FOR_HOURS = 2  # type: ignore[attr-defined]
    fake_twilio.down()
    at, retries = MONDAY_MORNING, 0
    while _send(confirmation, at=at) is not None:
        retries += 1
        assert confirmation.status == MessageStatus.PENDING
        assert confirmation.due_at - at <= dt.timedelta(minutes=15)  # never more than 15 minutes apart
        at = confirmation.due_at
    assert confirmation.status == MessageStatus.FAILED
    assert retries >= 8  # two hours of retries, not a count of five
    assert at - MONDAY_MORNING <= dt.timedelta(hours=2)
    assert WorklistItem.objects.filter(message=confirmation).exists()


def test_a_reminder_is_retried_until_its_visit_starts_and_not_after(
    fake_twilio: FakeTwilio, settings: object
) -> None:
    settings.SMS_QUIET_HOURS = None  # type: ignore[attr-defined]
    start = MONDAY_MORNING + dt.timedelta(hours=1)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment = AppointmentFactory(start=start)
        reminder = Message.objects.create(
            patient=appointment.patient,
            appointment=appointment,
            kind=MessageKind.REMINDER,
            dedupe_key="reminder-deadline",
            to=str(appointment.patient.phone),
            body="Reminder",
            timezone="America/Chicago",
            due_at=MONDAY_MORNING,
        )
    fake_twilio.down()
    at = MONDAY_MORNING
    while _send(reminder, at=at) is not None:
        assert reminder.due_at < start
        at = reminder.due_at
    assert reminder.status == MessageStatus.FAILED
    assert at < start


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_or_landline_number_fails_at_once_with_its_code(
    fake_twilio: FakeTwilio, confirmation: Message, code: int
) -> None:
    fake_twilio.fail_next(code)
    assert _send(confirmation) is None
    assert confirmation.status == MessageStatus.FAILED
    assert confirmation.error_code == str(code)
    assert confirmation.attempts == 1
    assert WorklistItem.objects.get(message=confirmation).kind == "failed_message"


def test_twilio_error_21610_opts_the_patient_out_and_suppresses_what_waits(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    fake_twilio.fail_next(21610)
    _send(confirmation)
    assert confirmation.status == MessageStatus.FAILED
    assert Patient.objects.get(pk=confirmation.patient_id).sms_opted_out_at is not None
    reminders = Message.objects.filter(appointment=confirmation.appointment, kind=MessageKind.REMINDER)
    assert {(m.status, m.suppressed_reason) for m in reminders} == {
        (MessageStatus.SUPPRESSED, SuppressedReason.OPTED_OUT)
    }


def test_an_unreachable_twilio_is_a_transient_failure(confirmation: Message, settings: object) -> None:
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]  # discard port: refused
    assert _send(confirmation) is not None
    assert confirmation.status == MessageStatus.PENDING
    assert confirmation.error_code == "network"


def test_a_retry_first_asks_twilio_whether_the_text_already_went(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    # The first attempt reached Twilio, but the worker died before recording it.
    _send(confirmation)
    Message.objects.filter(pk=confirmation.pk).update(
        status=MessageStatus.SENDING, provider_sid=None, claimed_at=MONDAY_MORNING
    )
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=10), tick=False):
        tasks.sweep()
    confirmation.refresh_from_db()
    assert len(fake_twilio.received) == 1
    assert confirmation.status == MessageStatus.QUEUED
    assert confirmation.provider_sid == fake_twilio.received[0].sid


def test_a_row_stranded_by_a_dead_worker_is_sent_by_the_sweep_within_two_minutes(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    Message.objects.filter(pk=confirmation.pk).update(
        status=MessageStatus.SENDING, claimed_at=MONDAY_MORNING, attempts=1
    )
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(seconds=45), tick=False):
        tasks.sweep()
    assert fake_twilio.received == []  # not stranded yet: a slow send may still be under way
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=2), tick=False):
        tasks.sweep()  # the sweep runs every minute: this is its latest run after the death
    confirmation.refresh_from_db()
    assert [sms.to for sms in fake_twilio.received] == [confirmation.to]
    assert confirmation.status == MessageStatus.QUEUED


def test_a_messaging_service_is_used_instead_of_a_from_number_when_configured(
    fake_twilio: FakeTwilio, confirmation: Message, settings: object
) -> None:
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32  # type: ignore[attr-defined]
    _send(confirmation)
    [sms] = fake_twilio.received
    assert (sms.from_, sms.messaging_service_sid) == ("", "MG" + "1" * 32)


def test_a_backend_that_crashes_leaves_the_row_to_retry_not_stranded(
    confirmation: Message, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: object, message: Message) -> str:
        raise ValueError("unexpected")

    monkeypatch.setattr("notifications.transports.TwilioTransport.send", crash)
    assert _send(confirmation) is not None
    assert (confirmation.status, confirmation.error_code) == (MessageStatus.PENDING, "error")


def test_a_retried_reminder_is_not_mistaken_for_the_earlier_reminder_that_reads_alike(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    first, second = Message.objects.filter(
        appointment=confirmation.appointment, kind=MessageKind.REMINDER
    ).order_by("due_at")
    assert first.body == second.body
    _send(first, at=first.due_at)
    fake_twilio.fail_next(20500)
    _send(second, at=second.due_at)
    _send(second, at=second.due_at + dt.timedelta(minutes=5))  # the retry asks Twilio first
    assert [sms.body for sms in fake_twilio.received] == [first.body, second.body]
    assert (second.status, second.provider_sid) == (MessageStatus.QUEUED, fake_twilio.received[1].sid)


def test_a_patient_who_withdrew_consent_after_booking_gets_no_reminder(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    Patient.objects.filter(pk=confirmation.patient_id).update(sms_consent=False)
    reminder = Message.objects.filter(appointment=confirmation.appointment, kind=MessageKind.REMINDER).first()
    assert reminder is not None
    _send(reminder, at=reminder.due_at)
    assert fake_twilio.received == []
    assert (reminder.status, reminder.suppressed_reason) == (
        MessageStatus.SUPPRESSED,
        SuppressedReason.NO_CONSENT,
    )


def test_a_reminder_goes_to_the_patients_current_number(
    fake_twilio: FakeTwilio, confirmation: Message
) -> None:
    Patient.objects.filter(pk=confirmation.patient_id).update(phone="+13125550142")
    reminder = Message.objects.filter(appointment=confirmation.appointment, kind=MessageKind.REMINDER).first()
    assert reminder is not None
    _send(reminder, at=reminder.due_at)
    assert [sms.to for sms in fake_twilio.received] == ["+13125550142"]
    assert reminder.to == "+13125550142"
