"""Follow-up reminders after surgery: rows scanned by beat, at most weekly, up to a limit."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from booking import services as booking_services
from booking.models import FollowUpWindow, Patient
from notifications import sending, tasks
from notifications.models import Message, MessageKind, MessageStatus
from notifications.transports import SentSms
from tests.factories import AppointmentFactory, PatientFactory, SurgeonFactory

pytestmark = pytest.mark.django_db

SURGERY_DAY = dt.date(2027, 2, 15)
# Monday 2027-03-01 at 10:00 in Chicago: the 2-week window (Mar 1 to Mar 8) is open.
WINDOW_OPEN = dt.datetime(2027, 3, 1, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def patient() -> Patient:
    patient = PatientFactory()
    with time_machine.travel(dt.datetime(2027, 2, 15, 20, 0, tzinfo=dt.UTC), tick=False):
        booking_services.surgery_record(
            patient=patient, surgeon=SurgeonFactory(), performed_on=SURGERY_DAY, procedure="Laminectomy"
        )
    return patient


def _scan(at: dt.datetime) -> int:
    with time_machine.travel(at, tick=False):
        return tasks.scan_follow_ups()


def test_an_open_window_with_no_visit_gets_a_time_to_book_text(
    patient: Patient, outbox: list[SentSms], django_capture_on_commit_callbacks: object
) -> None:
    with (
        time_machine.travel(WINDOW_OPEN, tick=False),
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        assert tasks.scan_follow_ups() == 1
    [sms] = outbox
    assert sms.to == str(patient.phone)
    assert "time to book your follow-up" in sms.body
    assert "Laminectomy" not in sms.body
    assert len(sms.body) <= 160


def test_no_text_before_the_window_opens(patient: Patient) -> None:
    assert _scan(WINDOW_OPEN - dt.timedelta(days=2)) == 0


def test_the_text_repeats_at_most_once_a_week(patient: Patient) -> None:
    assert _scan(WINDOW_OPEN) == 1
    assert _scan(WINDOW_OPEN + dt.timedelta(hours=1)) == 0
    assert _scan(WINDOW_OPEN + dt.timedelta(days=6)) == 0
    assert _scan(WINDOW_OPEN + dt.timedelta(days=7)) == 1
    window = FollowUpWindow.objects.get(surgery__patient=patient, label="2w")
    assert window.reminders_sent == 2


def test_the_text_stops_at_the_limit(patient: Patient, settings: object) -> None:
    settings.FOLLOW_UP_REMINDER_LIMIT = 2  # type: ignore[attr-defined]
    settings.FOLLOW_UP_PLAN = ["2w"]  # type: ignore[attr-defined]
    FollowUpWindow.objects.filter(label="2w").update(closes_on=dt.date(2027, 6, 1))
    sent = [_scan(WINDOW_OPEN + dt.timedelta(days=7 * week)) for week in range(4)]
    assert sent == [1, 1, 0, 0]


def test_a_visit_inside_the_window_means_no_text(patient: Patient) -> None:
    appointment = AppointmentFactory(patient=patient, start=WINDOW_OPEN + dt.timedelta(days=2))
    with time_machine.travel(WINDOW_OPEN - dt.timedelta(days=3), tick=False):
        booking_services.follow_up_link(appointment=appointment)
    assert _scan(WINDOW_OPEN) == 0


def test_a_visit_booked_after_the_text_was_queued_suppresses_it(
    patient: Patient, outbox: list[SentSms]
) -> None:
    # The scan runs at 06:00, so the text waits for 08:00; a visit is booked at 07:30.
    _scan(dt.datetime(2027, 3, 2, 12, 0, tzinfo=dt.UTC))
    message = Message.objects.get(kind=MessageKind.FOLLOW_UP)
    appointment = AppointmentFactory(patient=patient, start=WINDOW_OPEN + dt.timedelta(days=3))
    with time_machine.travel(dt.datetime(2027, 3, 2, 13, 30, tzinfo=dt.UTC), tick=False):
        booking_services.follow_up_link(appointment=appointment)
    with time_machine.travel(dt.datetime(2027, 3, 2, 14, 1, tzinfo=dt.UTC), tick=False):
        sending.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert outbox == []


def test_an_opted_out_patient_gets_no_follow_up_text(patient: Patient) -> None:
    Patient.objects.filter(pk=patient.pk).update(sms_opted_out_at=WINDOW_OPEN)
    assert _scan(WINDOW_OPEN) == 0


def test_an_overdue_window_gets_no_more_texts(patient: Patient) -> None:
    assert _scan(dt.datetime(2027, 3, 20, 16, 0, tzinfo=dt.UTC)) == 0


def test_the_scan_runs_from_rows_not_from_scheduled_tasks(patient: Patient) -> None:
    # Two years out, a fresh scan still finds the last window: nothing depended on a countdown.
    two_years = dt.datetime(2029, 2, 16, 16, 0, tzinfo=dt.UTC)
    assert _scan(two_years) == 1
    assert Message.objects.get(kind=MessageKind.FOLLOW_UP).follow_up.label == "2y"  # type: ignore[union-attr]


def test_a_visit_moved_out_of_the_window_no_longer_fulfils_it(patient: Patient) -> None:
    inside = AppointmentFactory(patient=patient, start=WINDOW_OPEN + dt.timedelta(days=2))
    outside = AppointmentFactory(patient=patient, start=WINDOW_OPEN + dt.timedelta(days=20))
    with time_machine.travel(WINDOW_OPEN - dt.timedelta(days=3), tick=False):
        booking_services.follow_up_link(appointment=inside)
        assert FollowUpWindow.objects.get(surgery__patient=patient, label="2w").appointment == inside
        booking_services.follow_up_unlink(appointment=inside)
        booking_services.follow_up_link(appointment=outside)
    assert FollowUpWindow.objects.get(surgery__patient=patient, label="2w").appointment is None
    assert _scan(WINDOW_OPEN) == 1


def test_a_second_visit_in_the_same_span_does_not_take_a_fulfilled_window(patient: Patient) -> None:
    first = AppointmentFactory(patient=patient, start=WINDOW_OPEN + dt.timedelta(days=1))
    second = AppointmentFactory(patient=patient, start=WINDOW_OPEN + dt.timedelta(days=2))
    with time_machine.travel(WINDOW_OPEN - dt.timedelta(days=3), tick=False):
        booking_services.follow_up_link(appointment=first)
        booking_services.follow_up_link(appointment=second)
    assert FollowUpWindow.objects.get(surgery__patient=patient, label="2w").appointment == first
