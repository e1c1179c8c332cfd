"""Nothing is sent between 21:00 and 08:00 on the location's wall clock, DST included."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

import hypothesis
import pytest
import time_machine
from django.test import override_settings
from hypothesis import strategies as st

from notifications import outbox, reactions, sending, tasks
from notifications.models import Message, MessageKind, MessageStatus
from notifications.transports import SentSms
from tests.factories import AppointmentFactory, LocationFactory

pytestmark = pytest.mark.django_db

Capture = Callable[..., object]
CHICAGO = "America/Chicago"


def _book_at(now: dt.datetime, zone: str = CHICAGO) -> Message:
    with time_machine.travel(now, tick=False):
        appointment = AppointmentFactory(
            location=LocationFactory(timezone=zone), start=now + dt.timedelta(days=10)
        )
        reactions.visit_booked(appointment=appointment)
    return Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)


def test_a_booking_at_ten_at_night_is_confirmed_at_eight_the_next_morning() -> None:
    # Tuesday 2027-02-02 22:00 CST = 04:00 UTC on the 3rd.
    confirmation = _book_at(dt.datetime(2027, 2, 3, 4, 0, tzinfo=dt.UTC))
    assert confirmation.due_at == dt.datetime(2027, 2, 3, 14, 0, tzinfo=dt.UTC)  # 08:00 CST


def test_a_booking_just_after_midnight_waits_for_eight_the_same_morning() -> None:
    confirmation = _book_at(dt.datetime(2027, 2, 3, 6, 30, tzinfo=dt.UTC))  # 00:30 CST
    assert confirmation.due_at == dt.datetime(2027, 2, 3, 14, 0, tzinfo=dt.UTC)


def test_a_booking_in_the_afternoon_is_due_at_once() -> None:
    now = dt.datetime(2027, 2, 3, 21, 0, tzinfo=dt.UTC)  # 15:00 CST
    assert _book_at(now).due_at == now


def test_quiet_hours_follow_the_location_zone_not_the_server() -> None:
    # 22:00 UTC is 23:00 in Berlin (quiet) and 16:00 in Chicago (not).
    now = dt.datetime(2027, 2, 3, 22, 0, tzinfo=dt.UTC)
    assert _book_at(now, zone="Europe/Berlin").due_at == dt.datetime(2027, 2, 4, 7, 0, tzinfo=dt.UTC)
    assert _book_at(now, zone=CHICAGO).due_at == now


def test_the_morning_after_spring_forward_is_eight_o_clock_daylight_time() -> None:
    # Saturday 2027-03-13 22:00 CST; clocks jump to CDT (UTC-5) at 02:00 on Sunday the 14th.
    confirmation = _book_at(dt.datetime(2027, 3, 14, 4, 0, tzinfo=dt.UTC))
    assert confirmation.due_at == dt.datetime(2027, 3, 14, 13, 0, tzinfo=dt.UTC)


def test_the_morning_after_fall_back_is_eight_o_clock_standard_time() -> None:
    # Saturday 2027-11-06 22:00 CDT; clocks fall back to CST (UTC-6) at 02:00 on the 7th.
    confirmation = _book_at(dt.datetime(2027, 11, 7, 3, 0, tzinfo=dt.UTC))
    assert confirmation.due_at == dt.datetime(2027, 11, 7, 14, 0, tzinfo=dt.UTC)


def test_a_row_that_becomes_due_at_night_is_held_until_morning(outbox: list[SentSms]) -> None:
    afternoon = dt.datetime(2027, 2, 3, 21, 0, tzinfo=dt.UTC)
    confirmation = _book_at(afternoon)
    night = dt.datetime(2027, 2, 4, 4, 0, tzinfo=dt.UTC)  # 22:00 CST, say after a broker outage
    with time_machine.travel(night, tick=False):
        sending.message_send(message_id=confirmation.pk)
    confirmation.refresh_from_db()
    assert outbox == []
    assert confirmation.status == MessageStatus.PENDING
    assert confirmation.due_at == dt.datetime(2027, 2, 4, 14, 0, tzinfo=dt.UTC)
    assert confirmation.attempts == 0


def test_the_held_row_goes_out_with_the_first_sweep_after_eight(outbox: list[SentSms]) -> None:
    confirmation = _book_at(dt.datetime(2027, 2, 3, 4, 0, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2027, 2, 3, 13, 59, tzinfo=dt.UTC), tick=False):
        tasks.sweep()
    assert outbox == []
    with time_machine.travel(dt.datetime(2027, 2, 3, 14, 0, 30, tzinfo=dt.UTC), tick=False):
        tasks.sweep()
    assert [sms.message_id for sms in outbox] == [confirmation.pk]


def test_a_reminder_due_at_night_moves_to_the_morning() -> None:
    # Visit Friday 2027-02-12 09:00 CST; the 1-day reminder would be Thursday 09:00, fine, but
    # with a 36-hour offset it lands at 21:00 Wednesday and must wait for 08:00 Thursday.
    with time_machine.travel(dt.datetime(2027, 2, 1, 16, 0, tzinfo=dt.UTC), tick=False):
        appointment = AppointmentFactory(start=dt.datetime(2027, 2, 12, 15, 0, tzinfo=dt.UTC))
        with override_settings(SMS_REMINDER_OFFSETS_HOURS=[36]):
            reactions.visit_booked(appointment=appointment)
    reminder = Message.objects.get(appointment=appointment, kind=MessageKind.REMINDER)
    assert reminder.due_at == dt.datetime(2027, 2, 11, 14, 0, tzinfo=dt.UTC)


ZONES = ["America/Chicago", "America/New_York", "America/Phoenix", "Europe/London", "Australia/Lord_Howe"]


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    at=st.datetimes(
        min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis takes naive bounds; values are UTC)
        max_value=dt.datetime(2030, 12, 31),  # noqa: DTZ001 (as above)
        timezones=st.just(dt.UTC),
    ),
    zone=st.sampled_from(ZONES),
)
def test_no_text_is_ever_due_between_nine_at_night_and_eight_in_the_morning(
    at: dt.datetime, zone: str
) -> None:
    released = outbox.quiet_hours_release(at=at, zone=zone)
    local = released.astimezone(zoneinfo.ZoneInfo(zone))
    assert dt.time(8) <= local.time() < dt.time(21)
    assert at <= released <= at + dt.timedelta(hours=12)
    at_local = at.astimezone(zoneinfo.ZoneInfo(zone)).time()
    if dt.time(8) <= at_local < dt.time(21):
        assert released == at  # a daytime text is never held


def test_a_text_due_at_three_in_the_morning_is_held_by_the_sender(outbox: list[SentSms]) -> None:
    confirmation = _book_at(dt.datetime(2027, 2, 3, 21, 0, tzinfo=dt.UTC))
    three_am = dt.datetime(2027, 2, 4, 9, 0, tzinfo=dt.UTC)  # 03:00 CST
    with time_machine.travel(three_am, tick=False):
        tasks.sweep()
    assert outbox == []
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.due_at) == (
        MessageStatus.PENDING,
        dt.datetime(2027, 2, 4, 14, 0, tzinfo=dt.UTC),
    )
