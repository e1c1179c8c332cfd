"""The FHIR lifecycle: every transition, allowed and refused, through the action endpoints."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus
from booking.services import TRANSITIONS, InvalidTransition
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

S = AppointmentStatus
START = dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)

ENDPOINTS = {
    "confirm": "confirm",
    "check_in": "check-in",
    "complete": "complete",
    "no_show": "no-show",
    "cancel": "cancel",
}
ALLOWED = {
    (S.BOOKED, "confirm"): S.CONFIRMED,
    (S.BOOKED, "check_in"): S.CHECKED_IN,
    (S.CONFIRMED, "check_in"): S.CHECKED_IN,
    (S.CHECKED_IN, "complete"): S.COMPLETED,
    (S.BOOKED, "cancel"): S.CANCELLED,
    (S.CONFIRMED, "cancel"): S.CANCELLED,
    (S.BOOKED, "no_show"): S.NO_SHOW,
    (S.CONFIRMED, "no_show"): S.NO_SHOW,
}
# Confirming a confirmed visit is no transition and no refusal either: it answers 200 unchanged.
IDEMPOTENT = {(S.CONFIRMED, "confirm")}
REFUSED = [
    (status, action)
    for status in S.values
    for action in ENDPOINTS
    if (status, action) not in ALLOWED and (status, action) not in IDEMPOTENT
]


@pytest.fixture(autouse=True)
def _clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


def act(client: APIClient, appointment: Appointment, action: str):  # type: ignore[no-untyped-def]
    body = {"reason": "Patient is travelling"} if action == "cancel" else {}
    return client.post(f"/api/v1/appointments/{appointment.id}/{ENDPOINTS[action]}/", body)


def test_the_table_the_tests_use_is_the_services_table() -> None:
    from_service = {
        (source, action): target
        for action, (sources, target) in TRANSITIONS.items()
        if action != "reschedule"
        for source in sources
    }
    assert from_service == ALLOWED


@pytest.mark.parametrize(("status", "action"), list(ALLOWED), ids=[f"{s} {a}" for s, a in ALLOWED])
def test_an_allowed_transition_moves_the_status(
    scheduler_client: APIClient, status: str, action: str
) -> None:
    appointment = AppointmentFactory(status=status, start=START)
    response = act(scheduler_client, appointment, action)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == ALLOWED[(status, action)]
    appointment.refresh_from_db()
    assert appointment.status == ALLOWED[(status, action)]


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=[f"{s} {a}" for s, a in REFUSED])
def test_a_refused_transition_is_a_409_naming_the_current_status(
    scheduler_client: APIClient, status: str, action: str
) -> None:
    appointment = AppointmentFactory(status=status, start=START)
    response = act(scheduler_client, appointment, action)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == InvalidTransition.code
    assert error["status"] == status
    assert status.replace("_", " ") in error["message"]
    appointment.refresh_from_db()
    assert appointment.status == status


def test_confirming_records_when(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=START)
    act(scheduler_client, appointment, "confirm")
    appointment.refresh_from_db()
    assert appointment.confirmed_at == NOW


def test_a_cancellation_needs_a_reason(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=START)
    response = scheduler_client.post(f"/api/v1/appointments/{appointment.id}/cancel/", {"reason": "  "})
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED


def test_a_cancellation_records_its_reason_and_is_not_late_days_ahead(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=START)
    response = act(scheduler_client, appointment, "cancel")
    assert response.json()["cancellation_reason"] == "Patient is travelling"
    assert response.json()["late_cancellation"] is False
    appointment.refresh_from_db()
    assert appointment.cancelled_at == NOW


def test_a_cancellation_within_24_hours_of_the_start_is_flagged_late(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=NOW + dt.timedelta(hours=23, minutes=59))
    response = act(scheduler_client, appointment, "cancel")
    assert response.json()["late_cancellation"] is True


def test_a_cancellation_exactly_24_hours_ahead_is_not_late(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=NOW + dt.timedelta(hours=24))
    response = act(scheduler_client, appointment, "cancel")
    assert response.json()["late_cancellation"] is False


def test_an_action_on_an_unknown_appointment_is_a_404(scheduler_client: APIClient) -> None:
    assert scheduler_client.post("/api/v1/appointments/999999/confirm/").status_code == 404


def test_confirming_a_confirmed_visit_answers_200_with_the_visit_and_changes_nothing(
    scheduler_client: APIClient,
) -> None:
    appointment = AppointmentFactory(status=S.BOOKED, start=START)
    first = act(scheduler_client, appointment, "confirm")
    appointment.refresh_from_db()
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        again = act(scheduler_client, appointment, "confirm")
    assert again.status_code == 200, again.json()
    assert again.json() == first.json()
    assert (again.json()["status"], again.json()["confirmed_at"]) == ("confirmed", "2027-03-01T12:00:00Z")
    unchanged = Appointment.objects.get(pk=appointment.pk)
    assert (unchanged.confirmed_at, unchanged.updated_at) == (
        appointment.confirmed_at,
        appointment.updated_at,
    )
