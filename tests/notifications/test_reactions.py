"""Texts are notifications' reaction to booking's visit events: after commit, once per event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine

from booking.models import VisitEvent, VisitEventKind
from booking.services import SlotUnavailable, appointment_book
from notifications import reactions
from notifications.models import Message, MessageKind
from notifications.transports import SentSms
from tests.factories import AppointmentTypeFactory, PatientFactory, tier
from tests.notifications.conftest import MONDAY_MORNING, book, clinic

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)

Capture = Callable[..., object]


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_booking_records_one_event_and_writes_no_text_before_it_commits(
    django_capture_on_commit_callbacks: Capture, outbox: list[SentSms]
) -> None:
    location, surgeon = clinic()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        appointment = appointment_book(
            patient=PatientFactory(),
            surgeon=surgeon,
            location=location,
            appointment_type=AppointmentTypeFactory(),
            tier=tier("standard"),
            start=VISIT,
        )
    [event] = VisitEvent.objects.filter(appointment=appointment)
    assert (event.kind, event.handled_at) == (VisitEventKind.BOOKED, None)
    assert not Message.objects.exists()
    for callback in callbacks:  # the commit
        callback()
    event.refresh_from_db()
    assert event.handled_at is not None
    assert Message.objects.filter(appointment=appointment, kind=MessageKind.CONFIRMATION).count() == 1
    assert [sms.to for sms in outbox] == [str(appointment.patient.phone)]


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_an_event_handled_twice_writes_its_texts_once() -> None:
    location, surgeon = clinic()
    appointment = book(location=location, surgeon=surgeon, start=VISIT)
    event = VisitEvent.objects.get(appointment=appointment)
    VisitEvent.objects.filter(pk=event.pk).update(handled_at=None)  # as if the hand-off came again
    Message.objects.all().delete()
    first = reactions.event_handle(event_id=event.pk)
    second = reactions.event_handle(event_id=event.pk)
    assert len(first) == 1
    assert second == []
    assert Message.objects.filter(appointment=appointment).count() == 3  # confirmation, two reminders


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_refused_booking_records_no_event() -> None:
    location, surgeon = clinic()
    book(location=location, surgeon=surgeon, start=VISIT)
    with pytest.raises(SlotUnavailable):
        book(location=location, surgeon=surgeon, start=VISIT)
    assert VisitEvent.objects.count() == 1
