"""Referrals: the tier's clock starts when the referral arrives, the queue orders by it, and a
visit booked from a referral is judged against it."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from booking.models import Appointment, Referral, ReferralStatus
from booking.services import OutsideTierWindow, ReferralNotOpen, referral_create, referral_due_by
from tests.factories import (
    BOOKING_MONDAY,
    AppointmentTypeFactory,
    BlockFactory,
    BookablePractice,
    LocationFactory,
    PatientFactory,
    tier,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def chicago(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHICAGO)


def refer(practice: BookablePractice, received_on: dt.date, **overrides: Any) -> Referral:
    return referral_create(
        patient=overrides.pop("patient", practice.patient),
        tier=overrides.pop("tier", tier("standard")),
        appointment_type=practice.visit,
        received_at=chicago(received_on),
        preferred_location=overrides.pop("preferred_location", practice.location),
        **overrides,
    )


def booking_from(
    practice: BookablePractice, referral: Referral, start: dt.datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "patient": referral.patient_id,
        "surgeon": practice.surgeon.id,
        "location": practice.location.id,
        "appointment_type": practice.visit.code,
        "tier": referral.tier.code,
        "start": start.isoformat(),
        "referral": referral.id,
        **extra,
    }


def test_a_scheduler_records_a_referral_and_its_due_date_counts_from_its_arrival(
    bookable: BookablePractice, scheduler_client: APIClient, scheduler: User
) -> None:
    response = scheduler_client.post(
        "/api/v1/referrals/",
        {
            "patient": bookable.patient.id,
            "tier": "standard",
            "appointment_type": bookable.visit.code,
            "received_at": chicago(dt.date(2027, 2, 20)).isoformat(),
            "source": "Dr. Okafor, Lakeside Family Practice",
            "preferred_location": bookable.location.id,
            "notes": "L5 radiculopathy, failed PT",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == ReferralStatus.NEW
    # The end of the local day 14 days after 20 February: midnight starting 7 March, Chicago.
    assert dt.datetime.fromisoformat(body["due_by"]) == chicago(dt.date(2027, 3, 7), 0)
    # Now is 1 March: the last day of the window, 6 March, is five days away.
    assert body["days_left"] == 5
    assert body["changed_by"] == scheduler.username


def test_a_referral_received_in_the_future_is_refused_naming_the_field(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    response = scheduler_client.post(
        "/api/v1/referrals/",
        {
            "patient": bookable.patient.id,
            "tier": "standard",
            "appointment_type": bookable.visit.code,
            "received_at": "2027-03-05T09:00:00-06:00",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "received_at" in response.json()["error"]["fields"]


def test_due_by_is_the_end_of_the_local_day_across_the_spring_dst_change(db: None) -> None:
    clinic = LocationFactory(timezone="America/Chicago")
    # Received 1 March (CST, UTC-6); 14 days on is 15 March, after the change to CDT (UTC-5).
    due = referral_due_by(
        tier=tier("standard"), received_at=chicago(dt.date(2027, 3, 1), 23), preferred_location=clinic
    )
    assert due == dt.datetime(2027, 3, 16, 5, 0, tzinfo=dt.UTC)
    assert due.astimezone(CHICAGO).time() == dt.time(0)


def test_without_a_preferred_clinic_due_by_counts_in_the_practices_zone(db: None, settings: Any) -> None:
    settings.SMS_DEFAULT_TIMEZONE = "America/New_York"
    received = dt.datetime(2027, 6, 1, 3, 30, tzinfo=dt.UTC)  # still 31 May in New York
    due = referral_due_by(tier=tier("urgent"), received_at=received, preferred_location=None)
    assert due == dt.datetime(2027, 6, 4, 4, 0, tzinfo=dt.UTC)  # midnight starting 4 June, EDT


def test_booked_on_day_10_of_14_from_the_referral_is_within_the_window(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, BOOKING_MONDAY - dt.timedelta(days=10))
    response = scheduler_client.post(
        "/api/v1/appointments/", booking_from(bookable, referral, bookable.at(9)), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["within_window"] is True
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SCHEDULED
    assert referral.appointment_id == response.json()["id"]


def test_booked_on_day_15_of_14_from_the_referral_is_refused_though_within_two_weeks_of_now(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, BOOKING_MONDAY - dt.timedelta(days=15))
    response = scheduler_client.post(
        "/api/v1/appointments/", booking_from(bookable, referral, bookable.at(9)), format="json"
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == OutsideTierWindow.code
    assert dt.datetime.fromisoformat(error["window_end"]) == referral.due_by
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW


def test_booked_on_day_15_with_an_override_reason_is_booked_outside_the_window(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, BOOKING_MONDAY - dt.timedelta(days=15))
    response = scheduler_client.post(
        "/api/v1/appointments/",
        booking_from(bookable, referral, bookable.at(9), window_override_reason="Patient away until then"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["within_window"] is False


def test_a_referral_of_another_patient_cannot_be_booked_from(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, dt.date(2027, 2, 26), patient=PatientFactory())
    payload = {**booking_from(bookable, referral, bookable.at(9)), "patient": bookable.patient.id}
    response = scheduler_client.post("/api/v1/appointments/", payload, format="json")
    assert response.status_code == 400
    assert "referral" in response.json()["error"]["fields"]


def test_a_referral_is_booked_only_in_its_own_tier_and_type_until_it_is_retriaged(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    # A standard referral booked as urgent would take urgent-reserved capacity.
    referral = refer(bookable, dt.date(2027, 2, 26))
    payload = {**booking_from(bookable, referral, bookable.at(9)), "tier": tier("urgent").code}
    response = scheduler_client.post("/api/v1/appointments/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["tier"]
    other_type = AppointmentTypeFactory(code="imaging-review-test")
    payload = {**booking_from(bookable, referral, bookable.at(9)), "appointment_type": other_type.code}
    response = scheduler_client.post("/api/v1/appointments/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["appointment_type"]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW
    assert not Appointment.objects.exists()


def test_a_scheduled_referral_cannot_be_booked_from_twice(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, dt.date(2027, 2, 26))
    first = scheduler_client.post(
        "/api/v1/appointments/", booking_from(bookable, referral, bookable.at(9)), format="json"
    )
    assert first.status_code == 201
    second = scheduler_client.post(
        "/api/v1/appointments/", booking_from(bookable, referral, bookable.at(10)), format="json"
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == ReferralNotOpen.code


@pytest.mark.parametrize("action", ["cancel", "no-show"])
def test_a_cancelled_or_missed_visit_puts_its_referral_back_in_the_queue_with_its_clock(
    bookable: BookablePractice, scheduler_client: APIClient, action: str
) -> None:
    referral = refer(bookable, BOOKING_MONDAY - dt.timedelta(days=10))
    triaged = scheduler_client.post(f"/api/v1/referrals/{referral.id}/triage/", {}, format="json")
    assert triaged.status_code == 200
    booked = scheduler_client.post(
        "/api/v1/appointments/", booking_from(bookable, referral, bookable.at(9)), format="json"
    ).json()
    body = {"reason": "Patient asked"} if action == "cancel" else {}
    # A no-show is recorded after the visit's start; the clock goes back when the step is done.
    after_start = bookable.at(10) if action == "no-show" else timezone.now()
    with time_machine.travel(after_start, tick=False):
        response = scheduler_client.post(
            f"/api/v1/appointments/{booked['id']}/{action}/", body, format="json"
        )
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.TRIAGED
    assert referral.appointment_id is None
    assert referral.due_by == chicago(BOOKING_MONDAY + dt.timedelta(days=5), 0)
    queue = scheduler_client.get("/api/v1/referrals/", {"status": "open"}).json()["results"]
    assert [row["id"] for row in queue] == [referral.id]


def test_a_moved_visit_keeps_its_referral_and_is_judged_by_the_referrals_clock(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, BOOKING_MONDAY - dt.timedelta(days=10))
    booked = scheduler_client.post(
        "/api/v1/appointments/", booking_from(bookable, referral, bookable.at(9)), format="json"
    ).json()
    # A week later is day 17 of 14 from the referral: refused without a reason.
    later = bookable.at(9, day=BOOKING_MONDAY + dt.timedelta(days=7))
    moved = scheduler_client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule/", {"start": later.isoformat()}, format="json"
    )
    assert moved.status_code == 409
    assert moved.json()["error"]["code"] == OutsideTierWindow.code
    moved = scheduler_client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule/",
        {"start": bookable.at(10).isoformat()},
        format="json",
    )
    assert moved.status_code == 201
    referral.refresh_from_db()
    assert (referral.status, referral.appointment_id) == (ReferralStatus.SCHEDULED, moved.json()["id"])


def test_the_queue_lists_open_referrals_by_due_date_with_days_left_and_the_earliest_slot(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    later = refer(bookable, dt.date(2027, 2, 27))
    overdue = refer(bookable, dt.date(2027, 2, 10))
    urgent = refer(bookable, dt.date(2027, 2, 28), tier=tier("urgent"))
    closed = refer(bookable, dt.date(2027, 2, 1))
    scheduler_client.post(f"/api/v1/referrals/{closed.id}/close/", {"reason": "declined"}, format="json")
    response = scheduler_client.get("/api/v1/referrals/", {"status": "open"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [overdue.id, urgent.id, later.id]
    assert [row["days_left"] for row in rows] == [-5, 2, 12]
    # The only free time is the Monday block: today (06:00 in Chicago) from 08:00.
    for row in rows:
        slot = row["earliest_slot"]
        assert dt.datetime.fromisoformat(slot["start"]) == bookable.at(8, day=dt.date(2027, 3, 1))
        assert slot["surgeon"] == bookable.surgeon.id
    assert [row["earliest_slot"]["within_window"] for row in rows] == [False, True, True]


def test_the_queue_filters_by_tier_clinic_surgeon_and_overdue(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    elsewhere = LocationFactory(timezone="America/Denver")
    standard = refer(bookable, dt.date(2027, 2, 27))
    overdue = refer(bookable, dt.date(2027, 2, 10))
    urgent = refer(bookable, dt.date(2027, 2, 28), tier=tier("urgent"), preferred_location=elsewhere)
    by_surgeon = refer(bookable, dt.date(2027, 2, 26), preferred_surgeon=bookable.surgeon)

    def ids(**params: Any) -> list[int]:
        response = scheduler_client.get("/api/v1/referrals/", {"status": "open", **params})
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(tier="urgent") == [urgent.id]
    assert ids(location=elsewhere.id) == [urgent.id]
    assert ids(surgeon=bookable.surgeon.id) == [by_surgeon.id]
    assert ids(overdue="true") == [overdue.id]
    assert set(ids(overdue="false")) == {standard.id, urgent.id, by_surgeon.id}


def test_the_queue_finds_earliest_slots_in_a_fixed_number_of_queries(
    bookable: BookablePractice, scheduler_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    other = BlockFactory(location=bookable.location, weekday=2, start=dt.time(9), end=dt.time(12))
    for day in range(1, 26):
        refer(
            bookable,
            dt.date(2027, 2, day),
            patient=PatientFactory(),
            preferred_surgeon=other.surgeon if day % 2 else None,
        )
    with django_assert_max_num_queries(12):
        response = scheduler_client.get("/api/v1/referrals/", {"status": "open", "limit": 50})
    rows = response.json()["results"]
    assert len(rows) == 25
    assert all(row["earliest_slot"] is not None for row in rows)
    by_id = {referral.id: referral for referral in Referral.objects.all()}
    for row in rows:
        wanted = by_id[row["id"]].preferred_surgeon_id or bookable.surgeon.id  # Monday's block comes first
        assert row["earliest_slot"]["surgeon"] == wanted


def test_a_referral_naming_a_surgeon_at_a_clinic_where_they_never_work_has_no_earliest_slot(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    elsewhere = BlockFactory(location=LocationFactory(), weekday=1).surgeon
    referral = refer(bookable, dt.date(2027, 2, 27), preferred_surgeon=elsewhere)
    [row] = scheduler_client.get("/api/v1/referrals/", {"status": "open"}).json()["results"]
    assert (row["id"], row["earliest_slot"]) == (referral.id, None)


def test_retriaging_to_another_tier_recomputes_due_by_and_keeps_the_history(
    bookable: BookablePractice, scheduler_client: APIClient, scheduler: User
) -> None:
    referral = refer(bookable, dt.date(2027, 2, 27))
    response = scheduler_client.post(
        f"/api/v1/referrals/{referral.id}/triage/", {"tier": "urgent"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == ReferralStatus.TRIAGED
    assert dt.datetime.fromisoformat(response.json()["due_by"]) == chicago(dt.date(2027, 3, 3), 0)
    detail = scheduler_client.get(f"/api/v1/referrals/{referral.id}/").json()
    assert [(row["status"], row["tier"]) for row in detail["history"]] == [
        ("triaged", "urgent"),
        ("new", "standard"),
    ]
    assert detail["history"][0]["changed_by"] == scheduler.username
    assert dt.datetime.fromisoformat(detail["history"][1]["due_by"]) == chicago(dt.date(2027, 3, 14), 0)


def test_a_referral_is_closed_with_a_reason_and_leaves_the_queue(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = refer(bookable, dt.date(2027, 2, 27))
    refused = scheduler_client.post(
        f"/api/v1/referrals/{referral.id}/close/", {"reason": "bored"}, format="json"
    )
    assert refused.status_code == 400
    assert "reason" in refused.json()["error"]["fields"]
    closed = scheduler_client.post(
        f"/api/v1/referrals/{referral.id}/close/", {"reason": "booked_elsewhere"}, format="json"
    )
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["close_reason"]) == ("closed", "booked_elsewhere")
    assert scheduler_client.get("/api/v1/referrals/", {"status": "open"}).json()["results"] == []
    again = scheduler_client.post(f"/api/v1/referrals/{referral.id}/triage/", {}, format="json")
    assert again.status_code == 409


def test_nobody_unauthenticated_sees_or_records_referrals(
    bookable: BookablePractice, anonymous_client: APIClient
) -> None:
    refer(bookable, dt.date(2027, 2, 27))
    assert anonymous_client.get("/api/v1/referrals/").status_code in (401, 403)
    assert anonymous_client.post("/api/v1/referrals/", {}, format="json").status_code in (401, 403)


def test_a_user_without_the_scheduler_role_cannot_read_the_queue(
    bookable: BookablePractice, db: None
) -> None:
    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get("/api/v1/referrals/").status_code == 403


def test_reading_the_queue_is_audited_per_referral(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    from practice.models import AuditEntry

    referral = refer(bookable, dt.date(2027, 2, 27))
    scheduler_client.get("/api/v1/referrals/", {"status": "open"})
    assert AuditEntry.objects.filter(
        object_type="referral", object_id=referral.id, patient_id=referral.patient_id
    ).exists()
