"""The PHI audit trail (issue 12): every read or write of patient data through the API leaves a
row naming the user, the action, the object and the patient; administrators read the trail and
no one changes it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from notifications import reactions
from notifications.models import Message, WorklistItem
from practice.admin import AuditEntryAdmin
from practice.audit import audit_flush, audit_record
from practice.models import AuditAction, AuditEntry
from tests.booking.test_appointment_booking import booking
from tests.factories import (
    AppointmentFactory,
    BookablePractice,
    PatientFactory,
    SchedulerFactory,
    SurgeonFactory,
    WaitlistEntryFactory,
)
from tests.notifications.conftest import MONDAY_MORNING

pytestmark = pytest.mark.django_db


def test_a_scheduler_reading_a_patient_leaves_exactly_one_audit_row_naming_them(
    scheduler_client: APIClient, scheduler: User
) -> None:
    patient = PatientFactory()
    response = scheduler_client.get(
        f"/api/v1/patients/{patient.pk}/", HTTP_X_REQUEST_ID="req-42", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.action, entry.object_type) == (scheduler, AuditAction.READ, "patient")
    assert (entry.object_id, entry.patient_id) == (patient.pk, patient.pk)
    assert (entry.request_id, entry.ip) == ("req-42", "10.1.2.3")
    assert response["X-Request-ID"] == "req-42"


def test_a_request_without_a_request_id_gets_a_generated_one(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    response = scheduler_client.get(f"/api/v1/patients/{patient.pk}/")
    entry = AuditEntry.objects.get()
    assert len(entry.request_id) == 32
    assert response["X-Request-ID"] == entry.request_id


def test_a_list_of_20_patients_records_20_patient_ids(scheduler_client: APIClient) -> None:
    patients = PatientFactory.create_batch(25)
    response = scheduler_client.get("/api/v1/patients/?limit=20")
    assert response.status_code == 200
    returned = {row["id"] for row in response.json()["results"]}
    assert len(returned) == 20
    entries = AuditEntry.objects.all()
    assert {entry.patient_id for entry in entries} == returned <= {p.pk for p in patients}
    assert {entry.action for entry in entries} == {AuditAction.LIST}
    assert len({entry.request_id for entry in entries}) == 1


def test_the_audit_of_a_list_is_one_insert(scheduler_client: APIClient, scheduler: User) -> None:
    PatientFactory.create_batch(20)
    with CaptureQueriesContext(connection) as queries:
        scheduler_client.get("/api/v1/patients/")
    inserts = [q["sql"] for q in queries.captured_queries if "practice_auditentry" in q["sql"]]
    assert len(inserts) == 1 and inserts[0].lstrip().startswith("INSERT")
    assert AuditEntry.objects.count() == 20


def test_an_appointment_create_is_recorded(
    bookable: BookablePractice, scheduler_client: APIClient, scheduler: User
) -> None:
    response = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    assert response.status_code == 201, response.json()
    entry = AuditEntry.objects.get(action=AuditAction.CREATE)
    assert (entry.user, entry.object_type, entry.object_id, entry.patient_id) == (
        scheduler,
        "appointment",
        response.json()["id"],
        bookable.patient.pk,
    )


def test_a_replayed_keyed_create_records_only_the_referral_that_exists(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    # The replay runs the work again and rolls it back: what it would have recorded goes with it.
    body = {"patient": bookable.patient.pk, "tier": "standard", "appointment_type": bookable.visit.code}
    first = scheduler_client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = scheduler_client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    created = AuditEntry.objects.filter(object_type="referral", action=AuditAction.CREATE)
    assert list(created.values_list("object_id", flat=True)) == [first.json()["id"]]


def test_a_refused_write_is_not_recorded(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    response = scheduler_client.post(
        "/api/v1/appointments/", booking(bookable, bookable.at(9), patient=999999)
    )
    assert response.status_code == 400
    assert not AuditEntry.objects.exists()


def test_appointments_waitlist_and_messages_are_audited_with_their_patient(
    scheduler_client: APIClient,
) -> None:
    appointment = AppointmentFactory()
    entry = WaitlistEntryFactory()
    scheduler_client.get(f"/api/v1/appointments/{appointment.pk}/")
    scheduler_client.get("/api/v1/waitlist/")
    scheduler_client.get("/api/v1/messages/")
    scheduler_client.get("/api/v1/worklist/")
    assert set(AuditEntry.objects.values_list("object_type", "action", "patient_id")) == {
        ("appointment", AuditAction.READ, appointment.patient_id),
        ("waitlist_entry", AuditAction.LIST, entry.patient_id),
        # The visit is outside any opening hours: the worklist shows it as a conflict.
        ("appointment", AuditAction.LIST, appointment.patient_id),
    }


def test_unauthenticated_requests_write_nothing(anonymous_client: APIClient) -> None:
    patient = PatientFactory()
    assert anonymous_client.get(f"/api/v1/patients/{patient.pk}/").status_code == 401
    assert anonymous_client.get("/api/v1/patients/").status_code == 401
    assert not AuditEntry.objects.exists()


def _entry(user: User, patient_id: int, at: dt.datetime) -> AuditEntry:
    return AuditEntry.objects.create(
        user=user,
        action=AuditAction.READ,
        object_type="patient",
        object_id=patient_id,
        patient_id=patient_id,
        request_id="r",
        at=at,
    )


def test_administrators_can_list_and_filter_the_audit(admin_client_api: APIClient, scheduler: User) -> None:
    other = SchedulerFactory(username="other")
    early = _entry(scheduler, 1, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    late = _entry(scheduler, 2, dt.datetime(2027, 2, 1, tzinfo=dt.UTC))
    others = _entry(other, 1, dt.datetime(2027, 2, 1, tzinfo=dt.UTC))

    def ids(query: str) -> list[int]:
        response = admin_client_api.get(f"/api/v1/audit/{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [others.pk, late.pk, early.pk]
    assert ids("?patient=1") == [others.pk, early.pk]
    assert ids(f"?user={scheduler.pk}") == [late.pk, early.pk]
    assert ids("?start=2027-01-15T00:00:00Z&end=2027-03-01T00:00:00Z") == [others.pk, late.pk]
    assert admin_client_api.get(f"/api/v1/audit/{early.pk}/").json()["username"] == scheduler.username


def test_schedulers_cant_read_the_audit_and_anonymous_users_are_asked_to_log_in(
    scheduler_client: APIClient, anonymous_client: APIClient
) -> None:
    assert scheduler_client.get("/api/v1/audit/").status_code == 403
    assert anonymous_client.get("/api/v1/audit/").status_code == 401


def test_audit_rows_cant_be_altered_through_any_endpoint(
    admin_client_api: APIClient, scheduler: User
) -> None:
    entry = _entry(scheduler, 1, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    url = f"/api/v1/audit/{entry.pk}/"
    assert admin_client_api.put(url, {"patient_id": 2}).status_code == 405
    assert admin_client_api.patch(url, {"patient_id": 2}).status_code == 405
    assert admin_client_api.delete(url).status_code == 405
    assert admin_client_api.post("/api/v1/audit/", {"patient_id": 2}).status_code == 405
    assert admin_client_api.delete("/api/v1/audit/").status_code == 405
    entry.refresh_from_db()
    assert entry.patient_id == 1
    assert AuditEntry.objects.count() == 1


def test_audit_rows_cant_be_altered_in_the_admin(scheduler: User) -> None:
    superuser = User.objects.create_superuser("root", password="pw")
    entry = _entry(scheduler, 1, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = AuditEntryAdmin(AuditEntry, site)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)

    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/practice/auditentry/").status_code == 200
    assert client.post(f"/admin/practice/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/practice/auditentry/{entry.pk}/change/", {"patient_id": 2}).status_code == 403
    entry.refresh_from_db()
    assert entry.patient_id == 1


def test_the_audit_endpoint_is_in_the_schema(admin_client_api: APIClient) -> None:
    schema = admin_client_api.get("/api/v1/schema/?format=json").json()
    assert set(schema["paths"]["/api/v1/audit/"]) == {"get"}
    assert set(schema["paths"]["/api/v1/audit/{id}/"]) == {"get"}


def test_entries_without_an_object_or_patient_id_are_written_with_nulls(scheduler: User) -> None:
    request = Request(APIRequestFactory().get("/"))
    request.user = scheduler
    audit_record(
        request,
        action=AuditAction.LIST,
        object_type="worklist_item",
        objects=[object(), object()],
        object_id_of=lambda obj: None,
        patient_id_of=lambda obj: None,
    )
    assert audit_flush(request._request) == 2
    assert list(AuditEntry.objects.values_list("object_id", "patient_id")) == [(None, None)] * 2


@pytest.mark.postgresql
def test_the_database_refuses_to_update_or_delete_an_audit_row(scheduler: User) -> None:
    entry = _entry(scheduler, 1, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(patient_id=2),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert entry.patient_id == 1


def test_surgeries_follow_ups_and_messages_are_audited_with_their_patient(
    scheduler_client: APIClient,
) -> None:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment = AppointmentFactory(start=dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC))
        reactions.visit_booked(appointment=appointment)
        message = Message.objects.filter(patient=appointment.patient).first()
        assert message is not None
        patient = PatientFactory()
        created = scheduler_client.post(
            "/api/v1/surgeries/",
            {
                "patient": patient.pk,
                "surgeon": SurgeonFactory().pk,
                "performed_on": "2027-02-15",
                "procedure": "L4-L5 fusion",
            },
        )
        assert created.status_code == 201, created.json()
        windows = created.json()["follow_ups"]
        assert scheduler_client.get("/api/v1/follow-ups/").status_code == 200
        assert scheduler_client.get(f"/api/v1/messages/{message.pk}/").status_code == 200

    rows = set(AuditEntry.objects.values_list("action", "object_type", "object_id", "patient_id"))
    assert (AuditAction.CREATE, "surgery", created.json()["id"], patient.pk) in rows
    assert {(AuditAction.LIST, "follow_up", w["id"], patient.pk) for w in windows} <= rows
    assert (AuditAction.READ, "message", message.pk, appointment.patient_id) in rows


def test_an_options_request_on_a_patient_writes_nothing(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    assert scheduler_client.options(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert not AuditEntry.objects.exists()


def test_resolving_a_worklist_item_is_recorded_as_an_update(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    item = WorklistItem.objects.create(patient=patient, kind="call_back", summary="Call me")
    response = scheduler_client.post(f"/api/v1/worklist/{item.pk}/resolve/")
    assert response.status_code == 200, response.json()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id, entry.patient_id) == (
        AuditAction.UPDATE,
        "worklist_item",
        item.pk,
        patient.pk,
    )
