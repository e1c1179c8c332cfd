"""Texts a booking causes: written with the booking (an outbox), sent after commit, once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection

from booking.services import SlotUnavailable, appointment_cancel, appointment_confirm, appointment_reschedule
from notifications import reactions, sending, tasks
from notifications.models import Message, MessageKind, MessageStatus, SuppressedReason
from notifications.transports import SentSms
from tests.factories import AppointmentFactory, PatientFactory
from tests.notifications.conftest import MONDAY_MORNING, book, clinic

pytestmark = pytest.mark.django_db

# Monday 2027-03-08 at 10:00 in Chicago (CST, UTC-6).
VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)

Capture = Callable[..., object]


def _is_gsm7_within_two_segments(text: str) -> bool:
    gsm7 = set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
        "¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    return len(text) <= 2 * 153 and set(text) <= gsm7


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_booking_sends_a_confirmation_after_commit(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    location, surgeon = clinic()
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(location=location, surgeon=surgeon, start=VISIT)
    assert [sms.to for sms in outbox] == [str(appointment.patient.phone)]
    confirmation = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.QUEUED
    assert confirmation.provider_sid == outbox[0].sid
    assert confirmation.attempts == 1


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_confirmation_names_practice_location_local_time_how_to_confirm_and_its_link(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    location, surgeon = clinic(name="Lakeview Clinic")
    with django_capture_on_commit_callbacks(execute=True):
        book(location=location, surgeon=surgeon, start=VISIT)
    body = outbox[0].body
    assert "Lakeside Spine" in body
    assert "Lakeview Clinic" in body
    assert "Mon Mar 8, 10:00 AM" in body
    assert "Reply YES to confirm" in body
    assert "Reply STOP to opt out." in body
    assert "https://sms.example.org/v/" in body
    assert _is_gsm7_within_two_segments(body)


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_no_text_carries_the_reason_the_surgeon_specialty_or_the_word_cancel(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    location, surgeon = clinic()
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(location=location, surgeon=surgeon, start=VISIT, reason="Suspected cauda equina")
        appointment_cancel(appointment=appointment, reason="Patient asked")
    bodies = list(Message.objects.values_list("body", flat=True))
    assert len(bodies) >= 2
    for body in bodies:
        assert "cauda" not in body.lower()
        assert "scoliosis" not in body.lower()
        assert "reply cancel" not in body.lower()


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_booking_schedules_reminders_three_days_and_one_day_before() -> None:
    location, surgeon = clinic()
    appointment = book(location=location, surgeon=surgeon, start=VISIT)
    reminders = Message.objects.filter(appointment=appointment, kind=MessageKind.REMINDER).order_by("due_at")
    assert [m.due_at for m in reminders] == [VISIT - dt.timedelta(days=3), VISIT - dt.timedelta(days=1)]
    assert {m.status for m in reminders} == {MessageStatus.PENDING}


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_reminder_offsets_come_from_settings(settings: object) -> None:
    settings.SMS_REMINDER_OFFSETS_HOURS = [48]  # type: ignore[attr-defined]
    location, surgeon = clinic()
    appointment = book(location=location, surgeon=surgeon, start=VISIT)
    reminders = Message.objects.filter(appointment=appointment, kind=MessageKind.REMINDER)
    assert [m.due_at for m in reminders] == [VISIT - dt.timedelta(hours=48)]


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_reminder_already_past_at_booking_is_not_scheduled() -> None:
    location, surgeon = clinic()
    appointment = book(location=location, surgeon=surgeon, start=MONDAY_MORNING + dt.timedelta(days=2))
    reminders = Message.objects.filter(appointment=appointment, kind=MessageKind.REMINDER)
    assert [m.due_at for m in reminders] == [MONDAY_MORNING + dt.timedelta(days=1)]


def test_a_reminder_is_sent_when_due_by_the_sweep(outbox: list[SentSms]) -> None:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        location, surgeon = clinic()
        appointment = book(location=location, surgeon=surgeon, start=VISIT)
    with time_machine.travel(VISIT - dt.timedelta(days=3, minutes=-1), tick=False):
        tasks.sweep()
    assert len([sms for sms in outbox if "reminder: your visit" in sms.body]) == 1
    reminders = Message.objects.filter(appointment=appointment, kind=MessageKind.REMINDER).order_by("due_at")
    assert [m.status for m in reminders] == [MessageStatus.QUEUED, MessageStatus.PENDING]


def test_a_reminder_for_a_cancelled_visit_is_never_sent(outbox: list[SentSms]) -> None:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        location, surgeon = clinic()
        appointment = book(location=location, surgeon=surgeon, start=VISIT)
        appointment_cancel(appointment=appointment, reason="Feeling better")
    with time_machine.travel(VISIT - dt.timedelta(hours=23), tick=False):
        tasks.sweep()
    assert not [sms for sms in outbox if "reminder" in sms.body]
    reminders = Message.objects.filter(appointment=appointment, kind=MessageKind.REMINDER)
    assert {(m.status, m.suppressed_reason) for m in reminders} == {
        (MessageStatus.SUPPRESSED, SuppressedReason.VISIT_CHANGED)
    }


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_cancellation_sends_a_notice(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    location, surgeon = clinic()
    appointment = book(location=location, surgeon=surgeon, start=VISIT)
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, reason="Feeling better")
    assert len(outbox) == 1
    assert "is cancelled" in outbox[0].body
    assert "+13125550100" in outbox[0].body


def test_moving_a_visit_sends_a_notice_and_moves_its_reminders(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        location, surgeon = clinic()
        appointment = book(location=location, surgeon=surgeon, start=VISIT)
        with django_capture_on_commit_callbacks(execute=True):
            moved = appointment_reschedule(
                appointment=appointment, start=VISIT + dt.timedelta(days=1, hours=1)
            )
    assert "moved to Tue Mar 9, 11:00 AM" in outbox[-1].body
    old = Message.objects.filter(appointment=appointment, kind=MessageKind.REMINDER)
    assert {m.status for m in old} == {MessageStatus.SUPPRESSED}
    new = Message.objects.filter(appointment=moved, kind=MessageKind.REMINDER).order_by("due_at")
    assert [m.due_at for m in new] == [moved.start - dt.timedelta(days=3), moved.start - dt.timedelta(days=1)]


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_hook_called_twice_writes_one_row_per_cause_and_kind() -> None:
    appointment = AppointmentFactory(start=VISIT)
    reactions.visit_booked(appointment=appointment)
    reactions.visit_booked(appointment=appointment)
    assert Message.objects.filter(appointment=appointment, kind=MessageKind.CONFIRMATION).count() == 1
    assert Message.objects.filter(appointment=appointment, kind=MessageKind.REMINDER).count() == 2


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_failed_booking_leaves_no_text_behind() -> None:
    location, surgeon = clinic()
    patient = PatientFactory()
    book(location=location, surgeon=surgeon, start=VISIT, patient=patient)
    with pytest.raises(SlotUnavailable):
        book(location=location, surgeon=surgeon, start=VISIT)
    assert Message.objects.filter(kind=MessageKind.CONFIRMATION).count() == 1


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_second_send_of_the_same_row_sends_nothing(outbox: list[SentSms]) -> None:
    appointment = AppointmentFactory(start=VISIT)
    reactions.visit_booked(appointment=appointment)
    confirmation = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
    sending.message_send(message_id=confirmation.pk)
    sending.message_send(message_id=confirmation.pk)
    assert len(outbox) == 1


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_patient_without_sms_consent_gets_a_suppressed_row_and_no_text(outbox: list[SentSms]) -> None:
    appointment = AppointmentFactory(start=VISIT, patient=PatientFactory(sms_consent=False))
    reactions.visit_booked(appointment=appointment)
    tasks.sweep()
    assert outbox == []
    assert set(Message.objects.values_list("suppressed_reason", flat=True)) == {SuppressedReason.NO_CONSENT}


def test_a_confirmed_visit_still_gets_its_reminders(outbox: list[SentSms]) -> None:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        location, surgeon = clinic()
        appointment = book(location=location, surgeon=surgeon, start=VISIT)
        appointment_confirm(appointment=appointment)
    with time_machine.travel(VISIT - dt.timedelta(hours=23), tick=False):
        tasks.sweep()
    assert len([sms for sms in outbox if "reminder: your visit" in sms.body]) == 2


# --- The hooks' cost inside booking's transaction -----------------------------------------------


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_booking_hook_writes_confirmation_and_reminders_in_four_queries(
    django_assert_max_num_queries: Capture,
) -> None:
    appointment = AppointmentFactory(start=VISIT)
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        reactions.visit_booked(appointment=appointment)
    assert Message.objects.filter(appointment=appointment).count() == 3


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_move_hook_takes_six_queries_and_the_cancel_hook_five(
    django_assert_max_num_queries: Capture,
) -> None:
    old = AppointmentFactory(start=VISIT)
    reactions.visit_booked(appointment=old)
    new = AppointmentFactory(start=VISIT + dt.timedelta(days=1), patient=old.patient)
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        reactions.visit_rescheduled(old=old, new=new)
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        reactions.visit_cancelled(appointment=new)
    assert Message.objects.filter(appointment=new, kind=MessageKind.CANCELLED).count() == 1
    reminders = Message.objects.filter(appointment=new, kind=MessageKind.REMINDER)
    assert {m.status for m in reminders} == {MessageStatus.SUPPRESSED}


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_patient_who_stopped_after_being_loaded_gets_suppressed_rows() -> None:
    appointment = AppointmentFactory(start=VISIT)
    type(appointment.patient).objects.filter(pk=appointment.patient_id).update(
        sms_opted_out_at=MONDAY_MORNING
    )
    reactions.visit_booked(appointment=appointment)  # appointment.patient is the stale instance
    assert set(Message.objects.filter(appointment=appointment).values_list("status", flat=True)) == {
        MessageStatus.SUPPRESSED
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_claiming_the_same_rows_at_once_send_each_once(
    outbox: list[SentSms], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "messages_enqueue", lambda *args, **kwargs: None)  # the broker lost them
    with time_machine.travel(MONDAY_MORNING, tick=False):
        ids = []
        for day in range(10):
            appointment = AppointmentFactory(start=VISIT + dt.timedelta(days=day))
            reactions.visit_booked(appointment=appointment)
            ids.append(Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION).pk)
    barrier = threading.Barrier(4)

    def worker() -> None:
        try:
            barrier.wait()
            with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=1), tick=False):
                sending.messages_send(message_ids=ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sms.message_id for sms in outbox) == sorted(ids)
    rows = Message.objects.filter(pk__in=ids)
    assert {(row.status, row.attempts) for row in rows} == {(MessageStatus.QUEUED, 1)}  # one claim each


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_provider_is_called_outside_any_database_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    in_transaction: list[bool] = []

    def send(self: object, message: Message) -> str:
        in_transaction.append(connection.in_atomic_block)
        return f"SM{message.pk:032d}"

    monkeypatch.setattr("notifications.transports.LocmemTransport.send", send)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        location, surgeon = clinic()
        book(location=location, surgeon=surgeon, start=VISIT)  # the task runs after booking's commit
    assert in_transaction == [False]
