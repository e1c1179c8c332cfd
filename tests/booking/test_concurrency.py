"""Racing requests on real database connections, one thread each: exactly one booking wins.

These commit for real (transaction=True), so the exclusion constraints and the unique index on
idempotency keys are what decides, as in production (on SQLite, the IMMEDIATE transactions).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from booking.models import ACTIVE_STATUSES, Appointment, Patient
from booking.services import PatientUnavailable, SlotUnavailable
from practice.models import IdempotencyKey
from tests.factories import (
    AppointmentTypeFactory,
    BlockFactory,
    BookablePractice,
    PatientFactory,
    SchedulerFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RACERS = 8


def race(requests: list[Callable[[APIClient], Any]]) -> list[Any]:
    """Run each request in its own thread with its own connection, released together."""
    scheduler = SchedulerFactory()
    barrier = threading.Barrier(len(requests))
    responses: list[Any] = [None] * len(requests)

    def run(index: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(scheduler)
            barrier.wait(timeout=10)
            responses[index] = requests[index](client)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def booking(practice: BookablePractice, start: dt.datetime, **overrides: Any) -> dict[str, Any]:
    return {
        "patient": practice.patient.id,
        "surgeon": practice.surgeon.id,
        "location": practice.location.id,
        "appointment_type": practice.visit.code,
        "tier": "standard",
        "start": start.isoformat(),
        **overrides,
    }


def book(body: dict[str, Any], **headers: str) -> Callable[[APIClient], Any]:
    return lambda client: client.post("/api/v1/appointments/", body, **headers)


def outcome(responses: list[Any]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def test_racing_bookings_of_one_slot_book_it_once(bookable: BookablePractice) -> None:
    patients = PatientFactory.create_batch(RACERS)
    responses = race([book(booking(bookable, bookable.at(9), patient=patient.id)) for patient in patients])
    assert outcome(responses) == {201: 1, 409: RACERS - 1}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {SlotUnavailable.code}
    assert Appointment.objects.filter(surgeon=bookable.surgeon, status__in=ACTIVE_STATUSES).count() == 1


def test_racing_bookings_of_overlapping_slots_book_one(bookable: BookablePractice) -> None:
    hour_long = AppointmentTypeFactory(code="new-consultation", duration_minutes=60)
    patients = PatientFactory.create_batch(RACERS)
    starts = [bookable.at(9, minute) for minute in (0, 15, 30, 45)]
    responses = race(
        [
            book(booking(bookable, starts[index % 4], patient=patient.id, appointment_type=hour_long.code))
            for index, patient in enumerate(patients)
        ]
    )
    assert outcome(responses) == {201: 1, 409: RACERS - 1}
    assert Appointment.objects.filter(surgeon=bookable.surgeon, status__in=ACTIVE_STATUSES).count() == 1


def test_one_patient_raced_into_two_surgeons_at_once_is_booked_once(bookable: BookablePractice) -> None:
    surgeons = [bookable.surgeon] + [
        BlockFactory(location=bookable.location, weekday=0, start=dt.time(8), end=dt.time(12)).surgeon
        for _ in range(RACERS - 1)
    ]
    responses = race([book(booking(bookable, bookable.at(9), surgeon=surgeon.id)) for surgeon in surgeons])
    assert outcome(responses) == {201: 1, 409: RACERS - 1}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {PatientUnavailable.code}
    assert Appointment.objects.filter(patient=bookable.patient).count() == 1


def test_racing_retries_with_one_idempotency_key_book_once_and_all_see_it(bookable: BookablePractice) -> None:
    body = booking(bookable, bookable.at(9))
    responses = race([book(body, HTTP_IDEMPOTENCY_KEY="one-click") for _ in range(RACERS)])
    assert outcome(responses) == {201: RACERS}
    assert len({response.json()["id"] for response in responses}) == 1
    assert Appointment.objects.count() == 1


def test_racing_cancel_and_reschedule_leave_one_consistent_outcome(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    created = scheduler_client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)))
    url = f"/api/v1/appointments/{created.json()['id']}"
    responses = race(
        [
            lambda client: client.post(f"{url}/cancel/", {"reason": "Patient called"}),
            lambda client: client.post(f"{url}/reschedule/", {"start": bookable.at(10).isoformat()}),
        ]
    )
    assert sorted(response.status_code for response in responses) in ([200, 409], [201, 409])
    assert Appointment.objects.filter(patient=bookable.patient, status__in=ACTIVE_STATUSES).count() == (
        1 if responses[1].status_code == 201 else 0
    )


@pytest.mark.parametrize(
    "headers",
    # With a key, SQLite's IMMEDIATE transaction starts before the patient is read: no DELETE can
    # land between that read and the commit there.
    [{}, pytest.param({"HTTP_IDEMPOTENCY_KEY": "book-deleted"}, marks=pytest.mark.postgresql)],
    ids=["no key", "with a key"],
)
def test_a_patient_deleted_while_being_booked_is_a_409_and_saves_nothing(
    bookable: BookablePractice, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    """Another scheduler deletes the patient between the booking's insert and its commit; the
    database refuses the visit at commit, which must reach the client as a 409, never a 500."""
    from booking.services import appointments

    recorded = appointments.event_record

    def deleted_meanwhile(**kwargs: Any) -> Any:
        event = recorded(**kwargs)
        with connection.cursor() as cursor:  # what the other scheduler's committed DELETE leaves
            cursor.execute(
                "DELETE FROM booking_patient WHERE id = (SELECT patient_id FROM booking_appointment WHERE id = %s)",
                [kwargs["appointment_id"]],
            )
        return event

    monkeypatch.setattr(appointments, "event_record", deleted_meanwhile)
    client = APIClient()
    client.force_authenticate(SchedulerFactory())
    response = client.post("/api/v1/appointments/", booking(bookable, bookable.at(9)), **headers)
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "conflict"
    assert not Appointment.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_any_keyed_request_whose_commit_is_refused_is_a_409_and_keeps_no_key(
    bookable: BookablePractice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Idempotency-Key's transaction commits after the view: a reference checked at commit
    (here a waitlist entry's patient, deleted meanwhile) must still give a 409, and a retry acts."""
    from booking.apis import waitlist

    create = waitlist.waitlist_entry_create

    def deleted_meanwhile(**data: Any) -> Any:
        entry = create(**data)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM booking_patient WHERE id = %s", [entry.patient_id])
        return entry

    monkeypatch.setattr(waitlist, "waitlist_entry_create", deleted_meanwhile)
    client = APIClient()
    client.force_authenticate(SchedulerFactory())
    body = {
        "patient": bookable.patient.id,
        "tier": "standard",
        "appointment_type": bookable.visit.code,
        "earliest_date": "2027-03-08",
        "latest_date": "2027-03-20",
    }
    response = client.post("/api/v1/waitlist/", body, HTTP_IDEMPOTENCY_KEY="wait-deleted")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "conflict"
    assert not IdempotencyKey.objects.exists()


def _book_in_process(practice: BookablePractice, patient: Any, hour: int) -> Appointment:
    from booking.services import appointment_book
    from practice.models import UrgencyTier

    return appointment_book(
        patient=patient,
        surgeon=practice.surgeon,
        location=practice.location,
        appointment_type=practice.visit,
        tier=UrgencyTier.objects.get(code="standard"),
        start=practice.at(hour),
    )


def test_a_booking_inside_a_larger_transaction_leaves_its_checks_deferred(bookable: BookablePractice) -> None:
    """The booking checks its own references early; what the caller writes afterwards keeps the
    usual check at commit."""
    from django.db import IntegrityError, transaction

    first = _book_in_process(bookable, bookable.patient, 9)
    statement_accepted = False
    with pytest.raises(IntegrityError), transaction.atomic():
        _book_in_process(bookable, PatientFactory(), 10)
        with connection.cursor() as cursor:  # a reference left dangling until the end
            cursor.execute("UPDATE booking_appointment SET patient_id = 987654321 WHERE id = %s", [first.pk])
        statement_accepted = True
    assert statement_accepted, "checked at once: the booking left the transaction in IMMEDIATE mode"
    assert Appointment.objects.get(pk=first.pk).patient_id == bookable.patient.pk  # the commit refused it


def test_stop_from_a_family_phone_does_not_deadlock_with_a_booking_of_a_family_member(
    bookable: BookablePractice,
) -> None:
    import time

    from django.db import DatabaseError, transaction

    from notifications.consent import patient_opt_out
    from notifications.models import WorklistItem

    sibling = PatientFactory(phone="+13125550177")  # the lower pk: STOP locks it first
    booked = PatientFactory(phone="+13125550177")
    booking_done, errors = threading.Event(), {}

    def yes_reply() -> None:  # a waitlist YES: books, then writes for the sibling, one transaction
        try:
            with transaction.atomic():
                _book_in_process(bookable, booked, 9)
                booking_done.set()
                time.sleep(1.0)
                WorklistItem.objects.create(kind="reply", patient=sibling, summary="Taken")
        except DatabaseError as error:
            errors["yes"] = type(error).__name__
        finally:
            connection.close()

    def stop() -> None:
        try:
            booking_done.wait(10)
            patient_opt_out(patient=sibling)
        except DatabaseError as error:
            errors["stop"] = type(error).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=yes_reply), threading.Thread(target=stop)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == {}
    assert Patient.objects.get(pk=sibling.pk).sms_opted_out_at is not None
