"""A freed slot is offered to the first matching waitlist patients; the first YES gets it."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from booking import services as booking_services
from booking.models import (
    Appointment,
    AppointmentStatus,
    Patient,
    ReferralStatus,
    VisitEvent,
    VisitEventKind,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from booking.services import appointment_cancel, appointment_reschedule, waitlist_entries_expire
from locations.models import Location, Surgeon
from notifications import reactions
from notifications.models import Message, MessageKind
from tests.factories import AppointmentTypeFactory, PatientFactory, tier
from tests.notifications.conftest import MONDAY_MORNING, book, clinic, text_from

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def monday() -> Any:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


def _wait(patient: Patient, tier_code: str = "standard", **extra: Any) -> WaitlistEntry:
    return WaitlistEntry.objects.create(
        patient=patient,
        tier=tier(tier_code),
        appointment_type=AppointmentTypeFactory(),
        earliest_date=dt.date(2027, 3, 1),
        latest_date=dt.date(2027, 3, 31),
        **extra,
    )


def _cancelled_slot() -> tuple[Location, Surgeon, Appointment]:
    location, surgeon = clinic()
    appointment = book(location=location, surgeon=surgeon, start=VISIT)
    return location, surgeon, appointment


def test_a_cancelled_visit_is_offered_to_the_most_urgent_then_oldest_waiting(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMS_WAITLIST_OFFERS = 2
    _, _, appointment = _cancelled_slot()
    oldest = _wait(PatientFactory())
    newer = _wait(PatientFactory())
    urgent = _wait(PatientFactory(), tier_code="urgent")
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, reason="Feeling better")
    offered = set(
        Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).values_list("patient_id", flat=True)
    )
    assert offered == {urgent.patient_id, oldest.patient_id}
    assert WaitlistEntry.objects.get(pk=newer.pk).status == WaitlistStatus.WAITING
    body = Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).first().body  # type: ignore[union-attr]
    assert "Mon Mar 8, 10:00 AM" in body and "Reply YES" in body and "STOP" in body


def test_a_visit_moved_by_half_an_hour_does_not_offer_the_time_it_still_overlaps(
    outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _, _, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    with django_capture_on_commit_callbacks(execute=True):
        moved = appointment_reschedule(appointment=appointment, start=VISIT + dt.timedelta(minutes=30))
    assert moved.start == VISIT + dt.timedelta(minutes=30)
    assert not WaitlistOffer.objects.exists()
    assert not Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).exists()
    assert str(entry.patient.phone) not in [sms.to for sms in outbox]
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_a_cancelled_visit_nothing_overlaps_is_still_offered(
    outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _, _, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, reason="Feeling better")
    assert WaitlistOffer.objects.get().entry_id == entry.pk
    assert str(entry.patient.phone) in [sms.to for sms in outbox]


def test_the_first_yes_gets_the_slot_and_the_others_are_told_it_is_gone(
    anonymous_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    _, surgeon, appointment = _cancelled_slot()
    first, second = _wait(PatientFactory()), _wait(PatientFactory())
    appointment_cancel(appointment=appointment, reason="Feeling better")
    with django_capture_on_commit_callbacks(execute=True):
        text_from(anonymous_client, first.patient, "YES")
    booked = Appointment.objects.get(patient=first.patient)
    assert (booked.start, booked.surgeon, booked.status) == (VISIT, surgeon, AppointmentStatus.BOOKED)
    assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistStatus.BOOKED
    gone = Message.objects.get(kind=MessageKind.WAITLIST_GONE)
    assert gone.patient_id == second.patient_id
    assert Message.objects.filter(appointment=booked, kind=MessageKind.CONFIRMATION).exists()

    reply = text_from(anonymous_client, second.patient, "YES")
    assert "has been taken" in reply.content.decode()
    assert not Appointment.objects.filter(patient=second.patient).exists()
    assert WaitlistEntry.objects.get(pk=second.pk).status == WaitlistStatus.WAITING


def test_a_yes_after_the_scheduler_withdrew_the_entry_books_nothing_and_is_told_it_is_gone(
    anonymous_client: APIClient, scheduler_client: APIClient
) -> None:
    _, _, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    appointment_cancel(appointment=appointment, reason="Feeling better")
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.OPEN
    response = scheduler_client.patch(f"/api/v1/waitlist/{entry.pk}/", {"status": "withdrawn"}, format="json")
    assert response.status_code == 200
    reply = text_from(anonymous_client, entry.patient, "YES")
    assert "has been taken" in reply.content.decode()
    assert not Appointment.objects.filter(patient=entry.patient).exists()
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.GONE
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WITHDRAWN


def test_a_yes_after_the_entry_expired_books_nothing(anonymous_client: APIClient) -> None:
    _, _, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    appointment_cancel(appointment=appointment, reason="Feeling better")
    assert waitlist_entries_expire(today=dt.date(2027, 4, 1)) == 1
    reply = text_from(anonymous_client, entry.patient, "YES")
    assert "has been taken" in reply.content.decode()
    assert not Appointment.objects.filter(patient=entry.patient).exists()


def test_a_yes_after_a_scheduler_rebooked_the_slot_is_told_it_is_gone(anonymous_client: APIClient) -> None:
    location, surgeon, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    appointment_cancel(appointment=appointment, reason="Feeling better")
    book(location=location, surgeon=surgeon, start=VISIT)
    reply = text_from(anonymous_client, entry.patient, "yes")
    assert "has been taken" in reply.content.decode()
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.GONE


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_yes_replies_at_the_same_moment_book_the_slot_once() -> None:
    _, _, appointment = _cancelled_slot()
    entries = [_wait(PatientFactory()), _wait(PatientFactory())]
    appointment_cancel(appointment=appointment, reason="Feeling better")
    offers = list(WaitlistOffer.objects.all())
    assert len(offers) == 2
    barrier = threading.Barrier(2)
    results: list[object] = []

    def accept(offer: WaitlistOffer) -> None:
        try:
            barrier.wait()
            with time_machine.travel(MONDAY_MORNING, tick=False):
                results.append(booking_services.waitlist_offer_accept(offer=offer))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(offer,)) for offer in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([result for result in results if result is not None]) == 1
    assert Appointment.objects.filter(patient__in=[e.patient for e in entries]).count() == 1
    assert WaitlistOffer.objects.filter(status=WaitlistOfferStatus.ACCEPTED).count() == 1


def test_an_unanswered_offer_lapses_and_the_patient_waits_again(settings: Any) -> None:
    settings.SMS_WAITLIST_OFFER_HOURS = 12
    _, _, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    appointment_cancel(appointment=appointment, reason="Feeling better")
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.OFFERED
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(hours=11), tick=False):
        booking_services.waitlist_offers_lapse()
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.OPEN
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(hours=12, minutes=1), tick=False):
        booking_services.waitlist_offers_lapse()
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.GONE
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_a_patient_who_opted_out_is_not_offered_the_slot(settings: Any) -> None:
    settings.SMS_WAITLIST_OFFERS = 1
    _, _, appointment = _cancelled_slot()
    _wait(PatientFactory(sms_opted_out_at=MONDAY_MORNING))
    reachable = _wait(PatientFactory())
    appointment_cancel(appointment=appointment, reason="Feeling better")
    assert list(WaitlistOffer.objects.values_list("entry_id", flat=True)) == [reachable.pk]


def test_offering_a_freed_slot_to_three_patients_takes_a_fixed_number_of_queries(
    settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.SMS_WAITLIST_OFFERS = 3
    _, _, appointment = _cancelled_slot()
    entries = [_wait(PatientFactory()) for _ in range(4)]
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    # One slot check per tier among the candidates: its four reads are one round trip on PostgreSQL.
    with django_assert_max_num_queries(7 if connection.vendor == "postgresql" else 10):
        booking_services.slot_offer(appointment=appointment)
    assert WaitlistOffer.objects.count() == 3
    [event] = VisitEvent.objects.filter(kind=VisitEventKind.SLOT_FREED)
    assert sorted(event.payload["offers"]) == sorted(WaitlistOffer.objects.values_list("pk", flat=True))
    assert len(reactions.event_handle(event_id=event.pk)) == 3  # a text for each, due now
    assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 3
    statuses = [WaitlistEntry.objects.get(pk=entry.pk).status for entry in entries]
    assert statuses == [WaitlistStatus.OFFERED] * 3 + [WaitlistStatus.WAITING]


def test_a_yes_books_from_the_patients_open_referral_even_past_its_due_date(
    anonymous_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    _, _, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    referral = booking_services.referral_create(
        patient=entry.patient,
        tier=entry.tier,
        appointment_type=entry.appointment_type,
        received_at=dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.UTC),
    )
    assert referral.due_by < VISIT
    appointment_cancel(appointment=appointment, reason="Feeling better")
    with django_capture_on_commit_callbacks(execute=True):
        text_from(anonymous_client, entry.patient, "YES")
    booked = Appointment.objects.get(patient=entry.patient)
    referral.refresh_from_db()
    assert (referral.status, referral.appointment) == (ReferralStatus.SCHEDULED, booked)
    assert booked.window_override_reason


def test_a_yes_leaves_a_referral_of_another_type_in_the_queue(
    anonymous_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    _, _, appointment = _cancelled_slot()
    entry = _wait(PatientFactory())
    other = booking_services.referral_create(
        patient=entry.patient, tier=entry.tier, appointment_type=AppointmentTypeFactory(code="imaging")
    )
    appointment_cancel(appointment=appointment, reason="Feeling better")
    with django_capture_on_commit_callbacks(execute=True):
        text_from(anonymous_client, entry.patient, "YES")
    assert Appointment.objects.filter(patient=entry.patient).exists()
    other.refresh_from_db()
    assert other.status == ReferralStatus.NEW
