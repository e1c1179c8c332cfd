"""Schedulers' SMS endpoints: messages, the worklist, surgeries and follow-up windows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from booking import services as booking_services
from booking.models import FollowUpWindow, Surgery
from notifications import callbacks, reactions, tasks
from notifications.models import Message, MessageKind, MessageStatus, WorklistItem
from tests.factories import AppointmentFactory, PatientFactory, SurgeonFactory
from tests.notifications.conftest import MONDAY_MORNING, clinic, text_from

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def monday() -> Any:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


# --- Messages ------------------------------------------------------------------------------------


def test_a_scheduler_lists_a_patients_messages(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=VISIT)
    reactions.visit_booked(appointment=appointment)
    reactions.visit_booked(appointment=AppointmentFactory(start=VISIT + dt.timedelta(days=1)))
    response = scheduler_client.get("/api/v1/messages/", {"patient": appointment.patient_id})
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert {row["kind"] for row in response.json()["results"]} == {"confirmation", "reminder"}


def test_messages_filter_by_status_and_kind(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=VISIT, patient=PatientFactory(sms_consent=False))
    reactions.visit_booked(appointment=appointment)
    response = scheduler_client.get("/api/v1/messages/", {"status": "suppressed", "kind": "confirmation"})
    [row] = response.json()["results"]
    assert (row["appointment"], row["status"], row["suppressed_reason"]) == (
        appointment.pk,
        "suppressed",
        "no_consent",
    )


def test_messages_filter_by_appointment(scheduler_client: APIClient) -> None:
    appointment = AppointmentFactory(start=VISIT)
    reactions.visit_booked(appointment=appointment)
    response = scheduler_client.get("/api/v1/messages/", {"appointment": appointment.pk, "kind": "reminder"})
    assert response.json()["count"] == 2


def test_an_unknown_status_filter_is_a_400_naming_the_field(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/messages/", {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_a_nonexistent_patient_filter_is_a_400_naming_the_field(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/messages/", {"patient": "999999"})
    assert response.status_code == 400
    assert "patient" in response.json()["error"]["fields"]


def test_listing_messages_takes_a_fixed_number_of_queries(
    scheduler_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    for day in range(10):
        reactions.visit_booked(appointment=AppointmentFactory(start=VISIT + dt.timedelta(days=day)))
    with django_assert_max_num_queries(6):
        response = scheduler_client.get("/api/v1/messages/")
    assert response.json()["count"] == 30


def test_one_message_can_be_read(scheduler_client: APIClient) -> None:
    reactions.visit_booked(appointment=AppointmentFactory(start=VISIT))
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    response = scheduler_client.get(f"/api/v1/messages/{message.pk}/")
    assert response.json()["body"] == message.body


@pytest.mark.parametrize(
    "path", ["/api/v1/messages/", "/api/v1/worklist/", "/api/v1/follow-ups/", "/api/v1/surgeries/"]
)
def test_anonymous_users_see_no_patient_data(anonymous_client: APIClient, path: str) -> None:
    assert anonymous_client.get(path).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/messages/", "/api/v1/worklist/", "/api/v1/follow-ups/"])
def test_a_user_without_a_role_is_refused(path: str) -> None:
    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get(path).status_code == 403


def test_an_administrator_may_read_messages(admin_client_api: APIClient) -> None:
    assert admin_client_api.get("/api/v1/messages/").status_code == 200


# --- Worklist ------------------------------------------------------------------------------------


def _fitting_visit() -> Any:
    location, surgeon = clinic()
    return AppointmentFactory(start=VISIT, location=location, surgeon=surgeon)


def test_the_worklist_shows_call_back_requests_and_failed_texts(
    scheduler_client: APIClient, anonymous_client: APIClient
) -> None:
    appointment = _fitting_visit()
    reactions.visit_booked(appointment=appointment)
    text_from(anonymous_client, appointment.patient, "R")
    Message.objects.filter(kind=MessageKind.CONFIRMATION).update(status=MessageStatus.SENDING)
    callbacks.message_status_record(
        provider_sid="SMX",
        status="failed",
        error_code="30005",
        message_id=Message.objects.get(kind="confirmation").pk,
    )
    rows = scheduler_client.get("/api/v1/worklist/").json()["results"]
    assert {row["kind"] for row in rows} == {"call_back", "failed_message"}
    assert {row["patient"] for row in rows} == {appointment.patient_id}


def test_a_resolved_item_leaves_the_worklist(
    scheduler_client: APIClient, anonymous_client: APIClient
) -> None:
    appointment = _fitting_visit()
    text_from(anonymous_client, appointment.patient, "Is there parking?")
    [row] = scheduler_client.get("/api/v1/worklist/").json()["results"]
    response = scheduler_client.post(f"/api/v1/worklist/{row['id']}/resolve/")
    assert response.status_code == 200
    assert response.json() == row  # the item as the list showed it
    assert scheduler_client.get("/api/v1/worklist/").json()["results"] == []
    assert WorklistItem.objects.get().resolved_at == MONDAY_MORNING


def test_the_worklist_lists_visits_that_no_longer_fit_the_calendar(scheduler_client: APIClient) -> None:
    # No opening hours and no blocks at all: the visit fits nothing.
    appointment = AppointmentFactory(start=VISIT)
    rows = scheduler_client.get("/api/v1/worklist/").json()["results"]
    assert [(row["kind"], row["appointment"]) for row in rows] == [("conflict", appointment.pk)]


# --- Surgeries and follow-ups --------------------------------------------------------------------


def _record(client: APIClient, **overrides: Any) -> Any:
    patient = overrides.pop("patient", None) or PatientFactory()
    data = {
        "patient": patient.pk,
        "surgeon": SurgeonFactory().pk,
        "performed_on": "2027-02-15",
        "procedure": "L4-L5 fusion",
        **overrides,
    }
    return client.post("/api/v1/surgeries/", data, format="json")


def test_recording_a_surgery_creates_the_default_follow_up_plan(scheduler_client: APIClient) -> None:
    response = _record(scheduler_client)
    assert response.status_code == 201
    windows = response.json()["follow_ups"]
    assert [(w["label"], w["opens_on"]) for w in windows] == [
        ("2w", "2027-03-01"),
        ("6w", "2027-03-29"),
        ("3m", "2027-05-15"),
        ("6m", "2027-08-15"),
        ("1y", "2028-02-15"),
        ("2y", "2029-02-15"),
    ]
    assert windows[0]["state"] == "open"
    assert windows[1]["state"] == "upcoming"
    assert Surgery.objects.get().recorded_by is not None


def test_the_follow_up_plan_comes_from_settings(scheduler_client: APIClient, settings: Any) -> None:
    settings.FOLLOW_UP_PLAN = ["10d", "1y"]
    response = _record(scheduler_client)
    assert [w["label"] for w in response.json()["follow_ups"]] == ["10d", "1y"]


def test_a_surgery_without_a_date_is_a_400_naming_the_field(scheduler_client: APIClient) -> None:
    response = _record(scheduler_client, performed_on="")
    assert response.status_code == 400
    assert "performed_on" in response.json()["error"]["fields"]
    assert not Surgery.objects.exists()


def test_a_surgery_for_an_unknown_patient_is_a_400(scheduler_client: APIClient) -> None:
    response = _record(scheduler_client, patient=PatientFactory.build(pk=999999))
    assert response.status_code == 400
    assert "patient" in response.json()["error"]["fields"]


def test_a_surgery_years_ahead_is_refused(scheduler_client: APIClient) -> None:
    response = _record(scheduler_client, performed_on="2030-01-01")
    assert response.status_code == 400
    assert "performed_on" in response.json()["error"]["fields"]


def test_a_surgery_dated_tomorrow_is_refused_saying_it_has_not_happened_yet(
    scheduler_client: APIClient,
) -> None:
    # MONDAY_MORNING is 2027-03-01 in Chicago.
    response = _record(scheduler_client, performed_on="2027-03-02")
    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["performed_on"]
    assert "2027-03-02 is after today (2027-03-01)" in message
    assert "follow-up plan" in message
    assert not Surgery.objects.exists()
    assert not FollowUpWindow.objects.exists()


def test_a_surgery_performed_today_gets_its_follow_up_plan(scheduler_client: APIClient) -> None:
    response = _record(scheduler_client, performed_on="2027-03-01")
    assert response.status_code == 201
    assert len(response.json()["follow_ups"]) == 6


def test_today_is_the_practices_day_not_utcs(scheduler_client: APIClient) -> None:
    # 20:00 in Chicago on March 1st is already March 2nd in UTC: March 2nd is still tomorrow.
    with time_machine.travel(dt.datetime(2027, 3, 2, 2, 0, tzinfo=dt.UTC), tick=False):
        response = _record(scheduler_client, performed_on="2027-03-02")
    assert response.status_code == 400
    assert "performed_on" in response.json()["error"]["fields"]


def test_anonymous_users_cannot_record_surgeries(anonymous_client: APIClient) -> None:
    assert _record(anonymous_client).status_code == 401


def test_an_administrator_may_record_surgeries(admin_client_api: APIClient) -> None:
    assert _record(admin_client_api).status_code == 201


def test_a_retried_surgery_is_recorded_once_with_one_follow_up_plan(scheduler_client: APIClient) -> None:
    patient, surgeon = PatientFactory(), SurgeonFactory()
    data = {"patient": patient.pk, "surgeon": surgeon.pk, "performed_on": "2027-02-15", "procedure": "Fusion"}
    first = scheduler_client.post("/api/v1/surgeries/", data, format="json", HTTP_IDEMPOTENCY_KEY="surgery-1")
    retry = scheduler_client.post("/api/v1/surgeries/", data, format="json", HTTP_IDEMPOTENCY_KEY="surgery-1")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert Surgery.objects.filter(patient=patient).count() == 1
    assert FollowUpWindow.objects.filter(surgery__patient=patient, label="2w").count() == 1


def test_a_surgery_key_reused_with_another_body_is_a_422_and_records_nothing(
    scheduler_client: APIClient,
) -> None:
    from practice.idempotency import IdempotencyKeyReused

    patient, surgeon = PatientFactory(), SurgeonFactory()
    data = {"patient": patient.pk, "surgeon": surgeon.pk, "performed_on": "2027-02-15", "procedure": "Fusion"}
    scheduler_client.post("/api/v1/surgeries/", data, format="json", HTTP_IDEMPOTENCY_KEY="surgery-2")
    other = {**data, "performed_on": "2027-02-16"}
    response = scheduler_client.post(
        "/api/v1/surgeries/", other, format="json", HTTP_IDEMPOTENCY_KEY="surgery-2"
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == IdempotencyKeyReused.code
    assert Surgery.objects.filter(patient=patient).count() == 1


def test_recording_a_surgery_documents_the_idempotency_key_header(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/surgeries/"]["post"]
    assert [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"] == ["Idempotency-Key"]


def test_follow_ups_are_listed_by_state(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    _record(scheduler_client, patient=patient, performed_on="2026-01-05")
    states = {w["label"]: w["state"] for w in scheduler_client.get("/api/v1/follow-ups/").json()["results"]}
    assert states == {
        "2w": "overdue",
        "6w": "overdue",
        "3m": "overdue",
        "6m": "overdue",
        "1y": "open",
        "2y": "upcoming",
    }
    response = scheduler_client.get("/api/v1/follow-ups/", {"state": "open", "patient": patient.pk})
    assert [w["label"] for w in response.json()["results"]] == ["1y"]


def test_a_visit_booked_inside_a_window_fulfils_it(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    _record(scheduler_client, patient=patient)
    appointment = AppointmentFactory(patient=patient, start=VISIT)
    booking_services.follow_up_link(appointment=appointment)
    window = FollowUpWindow.objects.get(label="2w")
    assert window.appointment == appointment
    response = scheduler_client.get("/api/v1/follow-ups/", {"state": "booked"})
    assert [w["label"] for w in response.json()["results"]] == ["2w"]


def test_a_no_show_reopens_its_follow_up_window_and_the_patient_is_reminded(
    scheduler_client: APIClient,
) -> None:
    from booking.services import appointment_no_show

    patient = PatientFactory()
    _record(scheduler_client, patient=patient)
    appointment = AppointmentFactory(patient=patient, start=dt.datetime(2027, 3, 3, 16, 0, tzinfo=dt.UTC))
    booking_services.follow_up_link(appointment=appointment)
    assert FollowUpWindow.objects.get(label="2w").appointment == appointment
    after_the_visit = dt.datetime(2027, 3, 3, 19, 0, tzinfo=dt.UTC)
    with time_machine.travel(after_the_visit, tick=False):
        appointment_no_show(appointment=appointment)
        response = scheduler_client.get("/api/v1/follow-ups/", {"patient": patient.pk})
        states = {w["label"]: w["state"] for w in response.json()["results"]}
        assert states["2w"] == "open"
        assert tasks.scan_follow_ups() == 1
    reminder = Message.objects.get(kind=MessageKind.FOLLOW_UP)
    assert reminder.patient_id == patient.pk


def test_a_visit_booked_before_the_surgery_was_recorded_fulfils_its_window(
    scheduler_client: APIClient,
) -> None:
    patient = PatientFactory()
    appointment = AppointmentFactory(patient=patient, start=VISIT)
    _record(scheduler_client, patient=patient)
    assert FollowUpWindow.objects.get(label="2w").appointment == appointment


def test_an_unknown_follow_up_state_is_a_400(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/follow-ups/", {"state": "late"})
    assert response.status_code == 400
    assert "state" in response.json()["error"]["fields"]


def test_listing_surgeries_takes_a_fixed_number_of_queries(
    scheduler_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        _record(scheduler_client)
    with django_assert_max_num_queries(6):
        response = scheduler_client.get("/api/v1/surgeries/")
    assert response.json()["count"] == 5


def test_listing_follow_ups_takes_a_fixed_number_of_queries(
    scheduler_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        _record(scheduler_client)
    with django_assert_max_num_queries(4):
        response = scheduler_client.get("/api/v1/follow-ups/")
    assert response.json()["count"] == 30


def test_the_worklist_takes_a_fixed_number_of_queries(
    scheduler_client: APIClient, anonymous_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        appointment = AppointmentFactory(start=VISIT)
        text_from(anonymous_client, appointment.patient, "Where do I park?")
    with django_assert_max_num_queries(12):
        rows = scheduler_client.get("/api/v1/worklist/").json()["results"]
    assert len(rows) == 10  # five replies, and five visits that fit no calendar


def test_the_worklist_is_paged_like_every_other_list(
    scheduler_client: APIClient, anonymous_client: APIClient
) -> None:
    for _ in range(3):
        appointment = AppointmentFactory(start=VISIT)
        text_from(anonymous_client, appointment.patient, "Where do I park?")
    everything = scheduler_client.get("/api/v1/worklist/").json()
    assert everything["count"] == 6  # three replies, and three visits that fit no calendar
    first = scheduler_client.get("/api/v1/worklist/", {"limit": 4}).json()
    rest = scheduler_client.get("/api/v1/worklist/", {"limit": 4, "offset": 4}).json()
    assert first["count"] == rest["count"] == 6
    assert first["next"] is not None and rest["next"] is None
    assert first["results"] + rest["results"] == everything["results"]
    assert [row["kind"] for row in first["results"]] == ["reply", "reply", "reply", "conflict"]


@pytest.mark.parametrize(
    "path", ["/api/v1/messages/", "/api/v1/surgeries/", "/api/v1/follow-ups/", "/api/v1/worklist/"]
)
def test_a_huge_page_limit_is_capped_not_a_500(scheduler_client: APIClient, path: str) -> None:
    response = scheduler_client.get(path, {"limit": "99999999999999999999"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["1.5", "abc", "999999", "99999999999999999999999"])
@pytest.mark.parametrize("field", ["patient", "surgery"])
def test_a_malformed_or_unknown_follow_up_filter_is_a_400_naming_it(
    scheduler_client: APIClient, field: str, value: str
) -> None:
    response = scheduler_client.get("/api/v1/follow-ups/", {field: value})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_unknown_worklist_item_is_a_404(scheduler_client: APIClient) -> None:
    assert scheduler_client.post("/api/v1/worklist/999999/resolve/").status_code == 404


def test_anonymous_users_cannot_resolve_worklist_items(anonymous_client: APIClient) -> None:
    assert anonymous_client.post("/api/v1/worklist/1/resolve/").status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/surgeries/"), ("post", "/api/v1/worklist/1/resolve/"), ("get", "/api/v1/messages/1/")],
)
def test_a_user_without_a_role_cannot_write_or_read_one(method: str, path: str) -> None:
    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    assert getattr(client, method)(path, {}, format="json").status_code == 403


def test_the_worklist_shows_schedulers_the_text_of_a_free_text_reply(
    scheduler_client: APIClient, anonymous_client: APIClient
) -> None:
    appointment = _fitting_visit()
    reactions.visit_booked(appointment=appointment)
    text_from(anonymous_client, appointment.patient, "Can my daughter come with me? She drives.")
    [row] = scheduler_client.get("/api/v1/worklist/").json()["results"]
    assert row["kind"] == "reply"
    assert row["reply_text"] == "Can my daughter come with me? She drives."
