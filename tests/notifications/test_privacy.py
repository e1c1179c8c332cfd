"""Texts carry no more than needed, and no log line carries a text's body."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import time_machine

from notifications import reactions, sending
from notifications.models import Message, MessageKind
from notifications.transports import ConsoleTransport
from tests.factories import AppointmentFactory
from tests.notifications.conftest import MONDAY_MORNING
from tests.notifications.fake_twilio import FakeTwilio

pytestmark = pytest.mark.django_db


def _all_logged(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{record.getMessage()} {record.__dict__}" for record in records)


def test_sending_retrying_and_failing_log_no_body(
    fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment = AppointmentFactory(start=MONDAY_MORNING + dt.timedelta(days=7))
        reactions.visit_booked(appointment=appointment)
        confirmation = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
        fake_twilio.fail_next(20500)
        sending.message_send(message_id=confirmation.pk)
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(hours=1), tick=False):
        fake_twilio.fail_next(21211)
        sending.message_send(message_id=confirmation.pk)
    logged = _all_logged(caplog.records)
    assert "sms send failed" in logged
    assert confirmation.body not in logged
    assert "is booked for" not in logged


def test_the_console_backend_prints_bodies_and_numbers_only_in_debug(capsys: Any, settings: Any) -> None:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment = AppointmentFactory(start=MONDAY_MORNING + dt.timedelta(days=7))
        reactions.visit_booked(appointment=appointment)
    message = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
    settings.DEBUG = False
    ConsoleTransport().send(message)
    printed = capsys.readouterr().out
    assert message.body not in printed
    assert str(message.to)[-7:] not in printed
    settings.DEBUG = True
    ConsoleTransport().send(message)
    printed = capsys.readouterr().out
    assert message.body in printed
    assert str(message.to) in printed
