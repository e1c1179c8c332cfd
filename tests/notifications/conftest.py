"""Fixtures for SMS: the locmem outbox, a fake Twilio on 127.0.0.1, signed webhooks, a clinic
patients can be booked into, and Celery running tasks inline (integration tests use a worker)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import TestCase
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from booking.models import Appointment, Patient
from booking.services import appointment_book
from locations.models import Location, Surgeon
from notifications.transports import LocmemTransport, SentSms
from tests.factories import (
    AppointmentTypeFactory,
    BlockFactory,
    LocationFactory,
    OpeningHoursFactory,
    PatientFactory,
    SurgeonFactory,
    tier,
)
from tests.notifications.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from workers.celery import app as celery_app

# Monday 2027-03-01, 09:00 in Chicago: office hours, two weeks before the spring DST change.
MONDAY_MORNING = dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def outbox() -> Iterator[list[SentSms]]:
    LocmemTransport.outbox.clear()
    yield LocmemTransport.outbox
    LocmemTransport.outbox.clear()


@pytest.fixture(autouse=True)
def celery_inline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks enqueued on commit run at once, in this process (a real worker in integration)."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture(autouse=True)
def twilio_credentials(settings: Any) -> None:
    # Webhooks validate against these; the backend stays locmem unless a test asks for Twilio.
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.PUBLIC_BASE_URL = "https://sms.example.org"


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def fake_twilio(fake_twilio_server: FakeTwilio, settings: Any) -> FakeTwilio:
    """The real twilio-python client, sending to the fake over HTTP."""
    fake_twilio_server.reset()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = fake_twilio_server.base_url
    return fake_twilio_server


def signed_post(
    client: APIClient, path: str, data: dict[str, str], *, token: str = AUTH_TOKEN, base: str | None = None
) -> Any:
    """POST a form as Twilio would, signed with `token` for the URL `base` + `path`."""
    url = f"{base or settings.PUBLIC_BASE_URL}{path}"
    signature = RequestValidator(token).compute_signature(url, data)
    return client.post(
        path,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


_sids = iter(range(1, 10**9))


def text_from(client: APIClient, patient: Patient, body: str) -> Any:
    """The patient texts the practice (a signed inbound webhook)."""
    data = {"MessageSid": f"SMIN{next(_sids):030d}", "From": str(patient.phone), "Body": body}
    return signed_post(client, "/webhooks/twilio/inbound/", data)


def clinic(zone: str = "America/Chicago", name: str = "Lakeview Clinic") -> tuple[Location, Surgeon]:
    """A location open 07:00-19:00 every day with one surgeon working all those hours."""
    location = LocationFactory(name=name, timezone=zone)
    surgeon = SurgeonFactory(specialties=["scoliosis"])
    for weekday in range(7):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(7), closes=dt.time(19))
        BlockFactory(
            surgeon=surgeon,
            location=location,
            weekday=weekday,
            start=dt.time(7),
            end=dt.time(19),
            valid_from=dt.date(2026, 1, 1),
        )
    return location, surgeon


def book(
    *,
    location: Location,
    surgeon: Surgeon,
    start: dt.datetime,
    patient: Patient | None = None,
    reason: str = "Suspected cauda equina",
) -> Appointment:
    """Booking's own service, as a request makes it: committed, so the booked event's texts are
    written (and the due ones sent) after it, as a worker does."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return appointment_book(
            patient=patient or PatientFactory(),
            surgeon=surgeon,
            location=location,
            appointment_type=AppointmentTypeFactory(),
            tier=tier("standard"),
            start=start,
            reason=reason,
        )
