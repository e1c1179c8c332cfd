"""The waitlist: CRUD, its order (tier rank, then age), and who a freed slot suits."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import WaitlistEntry, WaitlistStatus
from booking.selectors import waitlist_matches
from booking.services import waitlist_entries_expire
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    SurgeonFactory,
    WaitlistEntryFactory,
    tier,
)

pytestmark = pytest.mark.django_db


def test_a_scheduler_puts_a_patient_on_the_waitlist(scheduler_client: APIClient) -> None:
    patient = PatientFactory()
    visit = AppointmentTypeFactory()
    response = scheduler_client.post(
        "/api/v1/waitlist/",
        {
            "patient": patient.id,
            "tier": "urgent",
            "appointment_type": visit.code,
            "earliest_date": "2027-03-01",
            "latest_date": "2027-03-10",
            "status": "booked",
        },
    )
    assert response.status_code == 201, response.json()
    entry = WaitlistEntry.objects.get(pk=response.json()["id"])
    assert (entry.patient, entry.tier.code, entry.status) == (patient, "urgent", WaitlistStatus.WAITING)


def test_a_latest_date_before_the_earliest_is_a_400_naming_it(scheduler_client: APIClient) -> None:
    response = scheduler_client.post(
        "/api/v1/waitlist/",
        {
            "patient": PatientFactory().id,
            "tier": "standard",
            "appointment_type": AppointmentTypeFactory().code,
            "earliest_date": "2027-03-10",
            "latest_date": "2027-03-01",
        },
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["latest_date"]
    assert not WaitlistEntry.objects.exists()


def test_the_waitlist_lists_the_most_urgent_tier_first_then_the_oldest(scheduler_client: APIClient) -> None:
    with time_machine.travel(dt.datetime(2027, 2, 1, tzinfo=dt.UTC)):
        oldest_standard = WaitlistEntryFactory(tier=tier("standard"))
    with time_machine.travel(dt.datetime(2027, 2, 2, tzinfo=dt.UTC)):
        newer_standard = WaitlistEntryFactory(tier=tier("standard"))
    with time_machine.travel(dt.datetime(2027, 2, 3, tzinfo=dt.UTC)):
        urgent = WaitlistEntryFactory(tier=tier("urgent"))
    response = scheduler_client.get("/api/v1/waitlist/")
    assert [row["id"] for row in response.json()["results"]] == [
        urgent.id,
        oldest_standard.id,
        newer_standard.id,
    ]


def test_the_waitlist_filters_by_patient_and_status(scheduler_client: APIClient) -> None:
    wanted = WaitlistEntryFactory()
    WaitlistEntryFactory()
    WaitlistEntryFactory(patient=wanted.patient, status=WaitlistStatus.WITHDRAWN)
    response = scheduler_client.get("/api/v1/waitlist/", {"patient": wanted.patient_id, "status": "waiting"})
    assert [row["id"] for row in response.json()["results"]] == [wanted.id]


def test_an_entry_is_withdrawn_and_deleted(scheduler_client: APIClient) -> None:
    entry = WaitlistEntryFactory()
    response = scheduler_client.patch(f"/api/v1/waitlist/{entry.id}/", {"status": "withdrawn"})
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WITHDRAWN
    assert scheduler_client.delete(f"/api/v1/waitlist/{entry.id}/").status_code == 204
    assert not WaitlistEntry.objects.exists()


def test_a_change_making_the_dates_backwards_is_a_400(scheduler_client: APIClient) -> None:
    entry = WaitlistEntryFactory(earliest_date=dt.date(2027, 3, 1), latest_date=dt.date(2027, 3, 31))
    response = scheduler_client.patch(f"/api/v1/waitlist/{entry.id}/", {"earliest_date": "2027-04-15"})
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.earliest_date == dt.date(2027, 3, 1)


def test_a_freed_slot_matches_entries_by_type_surgeon_location_and_dates_in_waitlist_order() -> None:
    # 2027-03-08 15:00 UTC is 09:00 on Monday 8 March in Chicago.
    freed = AppointmentFactory(start=dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC))
    visit, surgeon, location = freed.appointment_type, freed.surgeon, freed.location
    with time_machine.travel(dt.datetime(2027, 2, 1, tzinfo=dt.UTC)):
        standard_any = WaitlistEntryFactory(appointment_type=visit, tier=tier("standard"))
    with time_machine.travel(dt.datetime(2027, 2, 2, tzinfo=dt.UTC)):
        standard_same_surgeon = WaitlistEntryFactory(
            appointment_type=visit, surgeon=surgeon, location=location
        )
    with time_machine.travel(dt.datetime(2027, 2, 3, tzinfo=dt.UTC)):
        urgent = WaitlistEntryFactory(appointment_type=visit, tier=tier("urgent"))
    # Not matching: another type, surgeon or location, dates that miss the day, not waiting,
    # and the patient who gave the slot up.
    WaitlistEntryFactory(appointment_type=AppointmentTypeFactory(code="imaging-review"))
    WaitlistEntryFactory(appointment_type=visit, surgeon=SurgeonFactory())
    WaitlistEntryFactory(appointment_type=visit, location=LocationFactory())
    WaitlistEntryFactory(appointment_type=visit, earliest_date=dt.date(2027, 3, 9))
    WaitlistEntryFactory(appointment_type=visit, latest_date=dt.date(2027, 3, 7))
    WaitlistEntryFactory(appointment_type=visit, status=WaitlistStatus.OFFERED)
    WaitlistEntryFactory(appointment_type=visit, patient=freed.patient)

    assert waitlist_matches(appointment=freed) == [urgent, standard_any, standard_same_surgeon]


def test_a_freed_slot_matches_by_the_clinics_local_date() -> None:
    # 03:00 UTC on 9 March is still 8 March in Chicago.
    freed = AppointmentFactory(start=dt.datetime(2027, 3, 9, 3, 0, tzinfo=dt.UTC))
    entry = WaitlistEntryFactory(
        appointment_type=freed.appointment_type,
        earliest_date=dt.date(2027, 3, 8),
        latest_date=dt.date(2027, 3, 8),
    )
    assert waitlist_matches(appointment=freed) == [entry]


def test_entries_past_their_latest_date_are_withdrawn_by_the_daily_expiry() -> None:
    past = WaitlistEntryFactory(latest_date=dt.date(2027, 3, 9))
    offered_past = WaitlistEntryFactory(latest_date=dt.date(2027, 3, 9), status=WaitlistStatus.OFFERED)
    today = WaitlistEntryFactory(latest_date=dt.date(2027, 3, 10))
    booked = WaitlistEntryFactory(latest_date=dt.date(2027, 3, 1), status=WaitlistStatus.BOOKED)
    assert waitlist_entries_expire(today=dt.date(2027, 3, 10)) == 2
    statuses = dict(WaitlistEntry.objects.values_list("id", "status"))
    assert statuses == {
        past.id: WaitlistStatus.WITHDRAWN,
        offered_past.id: WaitlistStatus.WITHDRAWN,
        today.id: WaitlistStatus.WAITING,
        booked.id: WaitlistStatus.BOOKED,
    }


def test_an_entry_lasts_until_midnight_at_the_practice_not_midnight_utc() -> None:
    entry = WaitlistEntryFactory(latest_date=dt.date(2027, 3, 8))
    # 19:00 in Chicago (the practice's zone) on its last day: already the 9th in UTC.
    with time_machine.travel(dt.datetime(2027, 3, 9, 1, 0, tzinfo=dt.UTC), tick=False):
        assert waitlist_entries_expire() == 0
    # 00:30 in Chicago on the 9th: the 8th is over there too.
    with time_machine.travel(dt.datetime(2027, 3, 9, 6, 30, tzinfo=dt.UTC), tick=False):
        assert waitlist_entries_expire() == 1
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WITHDRAWN


def test_the_waitlist_costs_a_fixed_number_of_queries(
    scheduler_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    WaitlistEntryFactory.create_batch(20)
    with django_assert_max_num_queries(4):
        response = scheduler_client.get("/api/v1/waitlist/")
    assert response.json()["count"] == 20


@pytest.mark.parametrize("field", ["tier", "appointment_type"])
def test_a_code_with_a_nul_byte_is_a_400_naming_the_field(scheduler_client: APIClient, field: str) -> None:
    body = {
        "patient": PatientFactory().id,
        "tier": "standard",
        "appointment_type": AppointmentTypeFactory().code,
        "earliest_date": "2027-03-01",
        "latest_date": "2027-03-10",
    }
    response = scheduler_client.post("/api/v1/waitlist/", {**body, field: "stand\x00ard"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not WaitlistEntry.objects.exists()
