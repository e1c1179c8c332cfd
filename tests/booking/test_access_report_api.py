"""GET /api/v1/reports/access/: third-next-available per tier, and bookings inside/outside windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from booking.models import Referral, ReferralStatus
from booking.services import referral_due_by
from locations.models import Block
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    LocationFactory,
    OpeningHoursFactory,
    PatientFactory,
    tier,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2027, 2, 26, 18, 0, tzinfo=dt.UTC)  # Friday noon in Chicago


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def block() -> Block:
    location = LocationFactory(timezone="America/Chicago", name="Lakeview")
    for weekday in range(5):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
    AppointmentTypeFactory(code="new-consultation", duration_minutes=60)
    # One hour on Mondays: one 60-minute slot a week, so the third is two weeks after the first.
    return BlockFactory(location=location, weekday=0, start=dt.time(8), end=dt.time(9))


def report(client: APIClient, **params: object) -> object:
    return client.get("/api/v1/reports/access/", {"start": "2027-02-01", "end": "2027-02-28", **params})


def tier_entry(body: dict, code: str) -> dict:
    return next(entry for entry in body["tiers"] if entry["tier"] == code)


def test_it_reports_the_third_next_available_slot_in_days_per_surgeon_and_location(
    scheduler_client: APIClient, block: Block
) -> None:
    body = report(scheduler_client).json()
    assert body["appointment_type"] == "new-consultation"
    standard = tier_entry(body, "standard")
    # Mondays 1, 8 and 15 March; 15 March is 17 days after Friday 26 February.
    assert standard["surgeons"] == [
        {
            "surgeon": block.surgeon_id,
            "name": str(block.surgeon),
            "days": 17,
            "slot_start": "2027-03-15T08:00:00-05:00",
        }
    ]
    assert standard["locations"] == [
        {
            "location": block.location_id,
            "name": "Lakeview",
            "days": 17,
            "slot_start": "2027-03-15T08:00:00-05:00",
        }
    ]


def test_a_block_held_for_urgent_shortens_only_the_urgent_measure(
    scheduler_client: APIClient, block: Block
) -> None:
    BlockFactory(
        surgeon=block.surgeon,
        location=block.location,
        weekday=2,
        start=dt.time(8),
        end=dt.time(11),
        reserved_for_tier=tier("urgent"),
        release_hours_before=48,
    )
    body = report(scheduler_client).json()
    assert tier_entry(body, "urgent")["surgeons"][0]["days"] == 5  # Wednesday 3 March, third hour
    assert tier_entry(body, "standard")["surgeons"][0]["days"] == 17  # held until 48 hours before


def test_fewer_than_three_slots_in_the_horizon_is_null(scheduler_client: APIClient, block: Block) -> None:
    block.valid_until = dt.date(2027, 3, 9)
    block.save()
    entry = tier_entry(report(scheduler_client).json(), "standard")["surgeons"][0]
    assert entry["days"] is None and entry["slot_start"] is None


def test_it_counts_bookings_made_in_the_period_inside_and_outside_their_window(
    scheduler_client: APIClient, block: Block
) -> None:
    booked_in_period = dt.datetime(2027, 2, 10, 12, tzinfo=dt.UTC)
    for within in (True, True, False):
        visit = AppointmentFactory(tier=tier("urgent"), within_window=within)
        type(visit).objects.filter(id=visit.id).update(booked_at=booked_in_period)
    AppointmentFactory(tier=tier("urgent"), within_window=False)  # booked "now": after the period
    urgent = tier_entry(report(scheduler_client, end="2027-02-20").json(), "urgent")
    assert (urgent["bookings_inside_window"], urgent["bookings_outside_window"]) == (2, 1)
    standard = tier_entry(report(scheduler_client).json(), "standard")
    assert (standard["bookings_inside_window"], standard["bookings_outside_window"]) == (0, 0)


def test_bad_report_parameters_are_400s_naming_them(scheduler_client: APIClient, block: Block) -> None:
    assert "end" in report(scheduler_client, end="2026-01-01").json()["error"]["fields"]
    assert "start" in report(scheduler_client, start="yesterday").json()["error"]["fields"]
    assert "appointment_type" in report(scheduler_client, appointment_type="nope").json()["error"]["fields"]


def test_an_anonymous_client_may_not_read_the_report(anonymous_client: APIClient) -> None:
    assert report(anonymous_client).status_code == 401


def test_it_reports_referrals_per_tier_and_location_from_arrival_to_visit(
    scheduler_client: APIClient, block: Block
) -> None:
    location = block.location
    visit_type = AppointmentTypeFactory(code="new-consultation")

    def referral(received: dt.datetime, visit_days: int | None = None) -> Referral:
        row = Referral.objects.create(
            patient=PatientFactory(),
            tier=tier("standard"),
            appointment_type=visit_type,
            received_at=received,
            preferred_location=location,
            due_by=referral_due_by(tier=tier("standard"), received_at=received, preferred_location=location),
            status=ReferralStatus.NEW if visit_days is None else ReferralStatus.SCHEDULED,
        )
        if visit_days is not None:
            row.appointment = AppointmentFactory(
                location=location, appointment_type=visit_type, start=received + dt.timedelta(days=visit_days)
            )
            row.save()
        return row

    received = dt.datetime(2027, 2, 1, 15, 0, tzinfo=dt.UTC)
    for days in (4, 10, 12, 20):  # 20 days is past the standard 14
        referral(received, visit_days=days)
    referral(dt.datetime(2027, 2, 10, 15, 0, tzinfo=dt.UTC))  # open, due 24 Feb: overdue now
    referral(dt.datetime(2027, 2, 25, 15, 0, tzinfo=dt.UTC))  # open, 13 days left
    body = report(scheduler_client).json()  # type: ignore[attr-defined]
    [line] = tier_entry(body, "standard")["referrals"]
    assert (line["location"], line["name"], line["received"]) == (location.id, "Lakeview", 4 + 2)
    assert (line["median_days_to_visit"], line["p90_days_to_visit"]) == (10.0, 20.0)
    assert line["seen_within_window"] == 0.75
    assert line["open_by_days_left"] == {"overdue": 1, "0-2": 0, "3-6": 0, "7-13": 1, "14+": 0}
    assert tier_entry(body, "urgent")["referrals"] == []
