"""A real Celery worker on a real Redis, sending through twilio-python to the fake Twilio.

Each test starts its own redis-server on a free port (the shared Redis is never touched) and
its own worker, which reads this test's database: the tests commit (transaction=True).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import time
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from booking.models import Appointment, Patient, VisitEvent, VisitEventKind
from booking.services import event_record
from notifications import tasks
from notifications.models import Message, MessageKind, MessageStatus, SuppressedReason
from tests.factories import AppointmentFactory, AppointmentTypeFactory, PatientFactory
from tests.notifications.conftest import book, clinic, text_from
from tests.notifications.fake_twilio import FakeTwilio
from tests.notifications.processes import (
    Redis,
    celery_worker,
    point_publisher_at,
    stop,
    wait_until,
    worker_env,
)
from workers.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def redis() -> Iterator[Redis]:
    server = Redis()
    server.start()
    before = app.conf.broker_url
    point_publisher_at(server.url)
    yield server
    point_publisher_at(before)
    server.stop()


@pytest.fixture
def fake(fake_twilio_server: FakeTwilio, settings: Any) -> FakeTwilio:
    fake_twilio_server.reset()
    settings.SMS_QUIET_HOURS = None  # the worker's clock is the real one; quiet hours have their own tests
    return fake_twilio_server


def _tomorrow_at_ten(zone: str = "America/Chicago") -> dt.datetime:
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)) + dt.timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def _message_ids(fake: FakeTwilio) -> list[int]:
    return [int(parse_qs(urlparse(sms.status_callback).query)["message"][0]) for sms in list(fake.received)]


def test_a_booking_is_confirmed_to_the_fake_twilio_by_a_real_worker(redis: Redis, fake: FakeTwilio) -> None:
    location, surgeon = clinic()
    with celery_worker(worker_env(redis_url=redis.url, fake=fake)):
        appointment = book(location=location, surgeon=surgeon, start=_tomorrow_at_ten())
        phone = str(appointment.patient.phone)
        assert wait_until(lambda: len(fake.bodies_to(phone)) == 1, timeout=120)
        confirmation = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
        assert wait_until(
            lambda: Message.objects.get(pk=confirmation.pk).status == MessageStatus.QUEUED, timeout=60
        )
    [body] = fake.bodies_to(phone)
    assert "is booked for" in body
    assert Message.objects.get(pk=confirmation.pk).provider_sid == fake.received[0].sid


def test_a_booking_while_redis_is_down_succeeds_and_is_texted_when_redis_returns(
    redis: Redis, fake: FakeTwilio
) -> None:
    location, surgeon = clinic()
    env = worker_env(redis_url=redis.url, fake=fake, SMS_SWEEP_GRACE_SECONDS="0")
    with celery_worker(env):
        redis.stop()
        appointment = book(location=location, surgeon=surgeon, start=_tomorrow_at_ten())
        assert Appointment.objects.filter(pk=appointment.pk).exists()
        phone = str(appointment.patient.phone)
        # The hand-off failed: the booked event waits in the database, unhandled.
        assert VisitEvent.objects.get(appointment=appointment).handled_at is None
        assert fake.bodies_to(phone) == []
        redis.start()
        # What beat does every minute, here at once.
        tasks.sweep.delay()
        assert wait_until(lambda: len(fake.bodies_to(phone)) == 1, timeout=120)
    assert len(fake.bodies_to(phone)) == 1


def _booked_batch(count: int) -> set[int]:
    """`count` visits, each with its booked event, committed together; the visits' ids. The
    commit hands the events to the broker (the relay), as a booking does."""
    template = AppointmentFactory.build(start=_tomorrow_at_ten())
    location, surgeon = clinic()
    patients = Patient.objects.bulk_create(PatientFactory.build() for _ in range(count))
    first = template.start
    visits = set()
    with transaction.atomic():
        for index, patient in enumerate(patients):
            start = first + dt.timedelta(hours=index)
            appointment = Appointment.objects.create(
                patient=patient,
                surgeon=surgeon,
                location=location,
                appointment_type=AppointmentTypeFactory(),
                tier=template.tier,
                start=start,
                end=start + dt.timedelta(minutes=60),
                busy_until=start + dt.timedelta(minutes=60),
            )
            event_record(kind=VisitEventKind.BOOKED, appointment_id=appointment.pk)
            visits.add(appointment.pk)
    return visits


def _confirmations(visits: set[int]) -> set[int]:
    return set(
        Message.objects.filter(appointment_id__in=visits, kind=MessageKind.CONFIRMATION).values_list(
            "id", flat=True
        )
    )


def test_a_worker_killed_mid_batch_leaves_every_text_sent_exactly_once(
    redis: Redis, fake: FakeTwilio
) -> None:
    count = 200
    env = worker_env(
        redis_url=redis.url, fake=fake, SMS_STRANDED_AFTER_SECONDS="1", SMS_SWEEP_GRACE_SECONDS="0"
    )
    visits = _booked_batch(count)  # committed, their events on the queue
    # After 40 texts the fake takes each next one in but does not answer: the worker is killed
    # with texts at Twilio whose sids it never recorded, however fast or slow the machine.
    fake.hold_after(40)
    with celery_worker(env, concurrency=8) as worker:
        assert wait_until(lambda: len(fake.received) > 40, timeout=120)
        stop(worker, signal.SIGKILL)
    fake.release()
    assert len(fake.received) < count, "the worker finished before it was killed; the test proved nothing"
    with celery_worker(env, concurrency=8):

        def all_sent() -> bool:
            tasks.sweep.delay()  # what beat does every minute
            confirmations = _confirmations(visits)
            return (
                len(confirmations) == count
                and not Message.objects.filter(
                    id__in=confirmations, status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
                ).exists()
            )

        assert wait_until(all_sent, timeout=180, interval=1.5)
    confirmations = _confirmations(visits)
    sent = Counter(_message_ids(fake))
    assert set(sent) == confirmations
    assert max(sent.values()) == 1
    assert not Message.objects.filter(id__in=confirmations).exclude(status=MessageStatus.QUEUED).exists()
    assert not VisitEvent.objects.filter(handled_at__isnull=True).exists()


def test_a_twilio_answering_after_ten_seconds_gets_a_hundred_texts_once_within_three_minutes(
    redis: Redis, fake: FakeTwilio
) -> None:
    count = 100
    env = worker_env(redis_url=redis.url, fake=fake, SMS_SEND_TIMEOUT_SECONDS="10")
    visits = _booked_batch(count)  # committed, their events on the queue
    fake.latency = 10.0  # every send accepted at once, answered ten seconds later
    began = time.monotonic()
    with contextlib.ExitStack() as workers:
        for _ in range(4):  # four worker processes
            workers.enter_context(celery_worker(env, concurrency=4))

        def all_queued() -> bool:
            confirmations = _confirmations(visits)
            return (
                len(confirmations) == count
                and not Message.objects.filter(id__in=confirmations)
                .exclude(status=MessageStatus.QUEUED)
                .exists()
            )

        assert wait_until(all_queued, timeout=180, interval=1.0)
    assert time.monotonic() - began < 180
    sent = Counter(_message_ids(fake))
    assert set(sent) == _confirmations(visits)
    assert max(sent.values()) == 1


def test_a_worker_killed_between_claiming_an_event_and_committing_its_texts_loses_and_doubles_nothing(
    redis: Redis, fake: FakeTwilio, tmp_path: Path
) -> None:
    location, surgeon = clinic()
    marker = tmp_path / "stalled"
    env = worker_env(redis_url=redis.url, fake=fake, SMS_SWEEP_GRACE_SECONDS="0", STALL_MARKER=str(marker))
    appointment = book(location=location, surgeon=surgeon, start=_tomorrow_at_ten())  # committed
    event = VisitEvent.objects.get(appointment=appointment)
    with celery_worker(env, app="tests.notifications.stalling_worker:app") as worker:
        # The worker has claimed the event and written its texts, and has not committed.
        assert wait_until(marker.exists, timeout=120)
        stop(worker, signal.SIGKILL)
    event.refresh_from_db()
    assert event.handled_at is None  # the claim died with the worker's transaction
    assert not Message.objects.filter(appointment=appointment).exists()
    phone = str(appointment.patient.phone)
    with celery_worker(env):

        def texted() -> bool:
            tasks.sweep.delay()  # what beat does every minute
            return len(fake.bodies_to(phone)) >= 1

        assert wait_until(texted, timeout=120, interval=1.5)
    assert len(fake.bodies_to(phone)) == 1
    assert Message.objects.filter(appointment=appointment, kind=MessageKind.CONFIRMATION).count() == 1
    event.refresh_from_db()
    assert event.handled_at is not None


def test_after_stop_the_worker_sends_no_reminder(
    redis: Redis, fake: FakeTwilio, settings: Any, anonymous_client: APIClient
) -> None:
    location, surgeon = clinic()
    # The worker writes the texts: its reminder is due an hour before the visit.
    env = worker_env(
        redis_url=redis.url, fake=fake, SMS_SWEEP_GRACE_SECONDS="0", SMS_REMINDER_OFFSETS_HOURS="1"
    )
    with celery_worker(env):
        start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=2)
        appointment = AppointmentFactory(location=location, surgeon=surgeon, start=start)
        with transaction.atomic():
            event_record(kind=VisitEventKind.BOOKED, appointment_id=appointment.pk)
        phone = str(appointment.patient.phone)
        assert wait_until(lambda: len(fake.bodies_to(phone)) == 1, timeout=120)  # the confirmation
        assert text_from(anonymous_client, appointment.patient, "STOP").status_code == 200
        reminder = Message.objects.get(appointment=appointment, kind=MessageKind.REMINDER)
        assert reminder.status == MessageStatus.SUPPRESSED  # the STOP itself suppressed it
        # A row written by a booking that committed just after the STOP is still pending: the
        # worker must refuse it at send time. Its leaving `pending` is the worker's answer.
        Message.objects.filter(pk=reminder.pk).update(
            status=MessageStatus.PENDING, suppressed_reason="", due_at=timezone.now()
        )

        def swept() -> bool:
            tasks.sweep.delay()  # what beat does every minute
            return Message.objects.get(pk=reminder.pk).status != MessageStatus.PENDING

        assert wait_until(swept, timeout=120, interval=1.5)
    assert len(fake.bodies_to(phone)) == 1
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.SUPPRESSED
    assert reminder.suppressed_reason == SuppressedReason.OPTED_OUT


def test_the_worker_holds_a_text_due_in_quiet_hours_until_they_end(redis: Redis, fake: FakeTwilio) -> None:
    zone = zoneinfo.ZoneInfo("America/Chicago")
    local = timezone.now().astimezone(zone)
    start, end = local - dt.timedelta(hours=1), local + dt.timedelta(hours=1)
    quiet = f"{start:%H:%M}-{end:%H:%M}"  # the worker's quiet hours: right now, in Chicago
    location, surgeon = clinic(zone="America/Chicago")
    with celery_worker(worker_env(redis_url=redis.url, fake=fake, SMS_QUIET_HOURS=quiet)):
        appointment = AppointmentFactory(location=location, surgeon=surgeon, start=_tomorrow_at_ten())
        with transaction.atomic():
            event_record(kind=VisitEventKind.BOOKED, appointment_id=appointment.pk)
        confirmations = Message.objects.filter(appointment=appointment, kind=MessageKind.CONFIRMATION)
        assert wait_until(confirmations.exists, timeout=120)  # the worker's reaction to the event
        confirmation = confirmations.get()
        assert wait_until(
            lambda: Message.objects.get(pk=confirmation.pk).due_at > timezone.now(), timeout=120
        )
    confirmation.refresh_from_db()
    assert fake.received == []
    assert confirmation.status == MessageStatus.PENDING
    assert confirmation.due_at.astimezone(zone).strftime("%H:%M") == f"{end:%H:%M}"
