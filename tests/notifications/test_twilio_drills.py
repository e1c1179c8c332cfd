"""Drills against the fake Twilio: a Twilio that is slow or down delays texts, never loses or
doubles them, and never leaves one stranded mid-send."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from notifications import reactions, sending, tasks
from notifications.models import Message, MessageKind, MessageStatus, WorklistItem
from tests.factories import AppointmentFactory
from tests.notifications.conftest import MONDAY_MORNING
from tests.notifications.fake_twilio import FakeTwilio

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)


def _confirmations(count: int) -> list[int]:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        for day in range(count):
            reactions.visit_booked(appointment=AppointmentFactory(start=VISIT + dt.timedelta(hours=day)))
    return sorted(Message.objects.filter(kind=MessageKind.CONFIRMATION).values_list("id", flat=True))


def _sent_ids(fake: FakeTwilio) -> Counter[int]:
    return Counter(int(parse_qs(urlparse(sms.status_callback).query)["message"][0]) for sms in fake.received)


def test_a_chunk_gives_back_the_texts_a_slow_twilio_leaves_no_time_to_send(
    fake_twilio: FakeTwilio, settings: Any
) -> None:
    settings.SMS_SEND_TIMEOUT_SECONDS = 1
    fake_twilio.latency = 0.5
    ids = _confirmations(3)
    with time_machine.travel(MONDAY_MORNING, tick=True):
        # Time for one slow send, not for two: what a task's soft time limit allows.
        deadline = time.monotonic() + sending.send_budget_seconds() + 0.3
        sent = sending.messages_send(message_ids=ids, deadline=deadline)
    assert len(fake_twilio.received) == 1
    [first] = _sent_ids(fake_twilio)
    assert sorted(sent.left) == sorted(set(ids) - {first})
    statuses = Counter(Message.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {MessageStatus.QUEUED: 1, MessageStatus.PENDING: 2}  # none stranded in `sending`
    assert set(Message.objects.filter(pk__in=sent.left).values_list("attempts", flat=True)) == {0}


def test_a_ten_minute_outage_fails_no_text_and_all_are_sent_once_after_it(
    fake_twilio: FakeTwilio, settings: Any
) -> None:
    settings.SMS_QUIET_HOURS = None
    ids = _confirmations(20)
    fake_twilio.down()  # 503 to every send and every lookup
    at = MONDAY_MORNING
    while at < MONDAY_MORNING + dt.timedelta(minutes=40):
        if at >= MONDAY_MORNING + dt.timedelta(minutes=10):
            fake_twilio.up()
        with time_machine.travel(at, tick=False):
            tasks.sweep()  # what beat does every minute: it sends every row due
        at += dt.timedelta(minutes=1)
    sent = _sent_ids(fake_twilio)
    assert set(sent) == set(ids)
    assert max(sent.values()) == 1
    assert set(Message.objects.filter(pk__in=ids).values_list("status", flat=True)) == {MessageStatus.QUEUED}
    assert not WorklistItem.objects.exists()
