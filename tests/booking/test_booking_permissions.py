"""Who may do what: schedulers and administrators book; nobody unauthenticated sees anything."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.factories import AppointmentFactory, PatientFactory, UserFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db

# (method, url template); {appointment}, {patient} and {entry} are filled per test.
OPERATIONS = [
    ("get", "/api/v1/patients/"),
    ("post", "/api/v1/patients/"),
    ("get", "/api/v1/patients/{patient}/"),
    ("patch", "/api/v1/patients/{patient}/"),
    ("put", "/api/v1/patients/{patient}/"),
    ("delete", "/api/v1/patients/{patient}/"),
    ("get", "/api/v1/appointments/"),
    ("post", "/api/v1/appointments/"),
    ("get", "/api/v1/appointments/{appointment}/"),
    ("post", "/api/v1/appointments/{appointment}/confirm/"),
    ("post", "/api/v1/appointments/{appointment}/cancel/"),
    ("post", "/api/v1/appointments/{appointment}/reschedule/"),
    ("post", "/api/v1/appointments/{appointment}/check-in/"),
    ("post", "/api/v1/appointments/{appointment}/complete/"),
    ("post", "/api/v1/appointments/{appointment}/no-show/"),
    ("get", "/api/v1/waitlist/"),
    ("post", "/api/v1/waitlist/"),
    ("get", "/api/v1/waitlist/{entry}/"),
    ("patch", "/api/v1/waitlist/{entry}/"),
    ("delete", "/api/v1/waitlist/{entry}/"),
    ("get", "/api/v1/slots/"),
    ("get", "/api/v1/slots/earliest/"),
    ("get", "/api/v1/reports/access/"),
    ("get", "/api/v1/conflicts/"),
]
IDS = [f"{method.upper()} {url}" for method, url in OPERATIONS]


def call(client: APIClient, method: str, url: str):  # type: ignore[no-untyped-def]
    appointment = AppointmentFactory()
    entry = WaitlistEntryFactory()
    filled = url.format(appointment=appointment.id, patient=PatientFactory().id, entry=entry.id)
    return getattr(client, method)(filled, {})


@pytest.mark.parametrize(("method", "url"), OPERATIONS, ids=IDS)
def test_an_anonymous_client_gets_401(anonymous_client: APIClient, method: str, url: str) -> None:
    response = call(anonymous_client, method, url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "url"), OPERATIONS, ids=IDS)
def test_a_login_without_a_role_gets_403(method: str, url: str) -> None:
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert call(client, method, url).status_code == 403


@pytest.mark.parametrize(("method", "url"), OPERATIONS, ids=IDS)
@pytest.mark.parametrize("role", ["scheduler", "administrator"])
def test_schedulers_and_administrators_are_let_through(
    request: pytest.FixtureRequest, method: str, url: str, role: str
) -> None:
    client = APIClient()
    user: User = request.getfixturevalue(role)
    client.force_authenticate(user)
    # Empty bodies are a 400 (or a 409 for a transition), never a refusal of the user nor a 500.
    status = call(client, method, url).status_code
    assert status not in {401, 403}
    assert status < 500
