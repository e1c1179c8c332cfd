"""A patient who consents is told, once, that their referral arrived and when we will call:
never who referred them, why, or the scheduler's notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine

from booking.models import VisitEvent, VisitEventKind
from booking.services import referral_create
from notifications import reactions
from notifications.models import Message, MessageKind, MessageStatus, SuppressedReason
from notifications.transports import SentSms
from tests.factories import AppointmentTypeFactory, LocationFactory, PatientFactory, tier
from tests.notifications.conftest import MONDAY_MORNING

pytestmark = pytest.mark.django_db

Capture = Callable[..., object]


def refer(*, consent: bool = True, received_days_ago: int = 0) -> int:
    referral = referral_create(
        patient=PatientFactory(sms_consent=consent),
        tier=tier("standard"),
        appointment_type=AppointmentTypeFactory(),
        received_at=MONDAY_MORNING - dt.timedelta(days=received_days_ago),
        source="Dr. Okafor, Riverbend Family Practice",
        preferred_location=LocationFactory(timezone="America/Chicago"),
        notes="Cauda equina symptoms, MRI pending",
    )
    return referral.pk


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_consenting_patient_is_told_their_referral_arrived_without_its_reason(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        referral_id = refer()
    [message] = Message.objects.filter(kind=MessageKind.REFERRAL_RECEIVED)
    assert message.patient.referrals.get().pk == referral_id
    assert "we received your referral" in message.body
    assert "within 14 days" in message.body
    for secret in ("Okafor", "Riverbend", "Cauda", "MRI"):
        assert secret not in message.body
    assert [sms.body for sms in outbox] == [message.body]


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_referral_received_days_ago_promises_only_the_days_left(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        refer(received_days_ago=10)
    assert "within 4 days" in Message.objects.get(kind=MessageKind.REFERRAL_RECEIVED).body


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_patient_without_consent_gets_no_referral_text(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        refer(consent=False)
    message = Message.objects.get(kind=MessageKind.REFERRAL_RECEIVED)
    assert (message.status, message.suppressed_reason) == (
        MessageStatus.SUPPRESSED,
        SuppressedReason.NO_CONSENT,
    )
    assert outbox == []


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_referral_text_is_written_once_even_if_its_event_is_handled_again(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        refer()
    event = VisitEvent.objects.get(kind=VisitEventKind.REFERRAL_RECEIVED)
    assert event.appointment_id is None
    VisitEvent.objects.filter(pk=event.pk).update(handled_at=None)  # as if the hand-off came again
    reactions.event_handle(event_id=event.pk)
    assert Message.objects.filter(kind=MessageKind.REFERRAL_RECEIVED).count() == 1
