"""GET /api/v1/slots/check/ and a refused booking say why a start is not bookable, with one code
from the engine, a message a scheduler understands and the next free slots."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from booking import availability
from booking.selectors import slots_free
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    BookablePractice,
    ClosureFactory,
    LocationFactory,
    OpeningHoursFactory,
    SchedulerFactory,
    SurgeonFactory,
    TimeOffFactory,
    tier,
)

pytestmark = pytest.mark.django_db


def check(client: APIClient, practice: BookablePractice, start: dt.datetime, **overrides: Any) -> Any:
    params = {
        "surgeon": practice.surgeon.id,
        "location": practice.location.id,
        "appointment_type": practice.visit.code,
        "tier": "standard",
        "start": start.isoformat(),
        **overrides,
    }
    response = client.get("/api/v1/slots/check/", params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_free_start_is_bookable(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    answer = check(scheduler_client, bookable, bookable.at(9))
    assert (answer["bookable"], answer["code"], answer["next_slots"]) == (True, None, [])


def test_a_taken_start_says_taken_and_offers_the_next_slots(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    AppointmentFactory(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        start=bookable.at(9),
    )
    answer = check(scheduler_client, bookable, bookable.at(9))
    assert (answer["bookable"], answer["code"]) == (False, availability.REFUSAL_TAKEN)
    assert answer["message"] == "The surgeon already has a visit at that time."
    assert dt.datetime.fromisoformat(answer["next_slots"][0]["start"]) == bookable.at(9, 30)


@pytest.mark.parametrize(
    ("hour", "minute", "code"),
    [
        (7, 0, availability.REFUSAL_OUTSIDE_HOURS),
        (13, 0, availability.REFUSAL_NOT_IN_BLOCK),
        (9, 7, availability.REFUSAL_OFF_GRID),
    ],
    ids=["before opening", "after the block", "off the grid"],
)
def test_a_start_off_the_template_says_where_it_misses(
    bookable: BookablePractice, scheduler_client: APIClient, hour: int, minute: int, code: str
) -> None:
    assert check(scheduler_client, bookable, bookable.at(hour, minute))["code"] == code


def test_a_start_on_a_closure_says_the_location_is_closed(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    ClosureFactory(
        location=bookable.location, start_date=bookable.at(9).date(), end_date=bookable.at(9).date()
    )
    answer = check(scheduler_client, bookable, bookable.at(9))
    assert answer["code"] == availability.REFUSAL_LOCATION_CLOSED
    assert "closed" in answer["message"]


def test_a_start_in_time_off_says_the_surgeon_is_off(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    TimeOffFactory(surgeon=bookable.surgeon, start=bookable.at(9), end=bookable.at(10))
    assert check(scheduler_client, bookable, bookable.at(9))["code"] == availability.REFUSAL_SURGEON_OFF


def test_a_start_held_for_urgent_patients_says_until_when(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bookable.surgeon.blocks.update(reserved_for_tier=tier("urgent"), release_hours_before=48)
    answer = check(scheduler_client, bookable, bookable.at(9))
    assert answer["code"] == availability.REFUSAL_RESERVED_FOR_TIER
    assert answer["reserved_for_tier"] == "urgent"
    assert dt.datetime.fromisoformat(answer["release_at"]) == bookable.at(9) - dt.timedelta(hours=48)
    assert "held for urgent patients until 2027-03-06 09:00" in answer["message"]
    assert check(scheduler_client, bookable, bookable.at(9), tier="urgent")["bookable"] is True


def test_a_start_too_soon_for_the_types_notice_says_min_notice(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bookable.visit.min_notice_hours = 24 * 10
    bookable.visit.save()
    answer = check(scheduler_client, bookable, bookable.at(9))
    assert answer["code"] == availability.REFUSAL_MIN_NOTICE
    assert "240 hours' notice" in answer["message"]


def test_a_start_in_the_past_says_so(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    answer = check(scheduler_client, bookable, bookable.at(9, day=dt.date(2027, 2, 22)))
    assert answer["code"] == availability.REFUSAL_IN_PAST


def test_a_surgeon_who_never_works_at_the_location_says_so(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    stranger = BlockFactory(location=LocationFactory(), weekday=0).surgeon
    answer = check(scheduler_client, bookable, bookable.at(9), surgeon=stranger.id)
    assert answer["code"] == availability.REFUSAL_SURGEON_NOT_AT_LOCATION
    assert check(scheduler_client, bookable, bookable.at(9), surgeon=SurgeonFactory().id)["code"] == (
        availability.REFUSAL_SURGEON_NOT_AT_LOCATION
    )


def test_a_surgeon_whose_blocks_here_are_on_other_dates_is_not_in_a_block(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bookable.surgeon.blocks.update(valid_until=dt.date(2027, 2, 1))
    assert check(scheduler_client, bookable, bookable.at(9))["code"] == availability.REFUSAL_NOT_IN_BLOCK


def test_a_refused_booking_carries_the_same_code_message_and_next_slots(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bookable.surgeon.blocks.update(reserved_for_tier=tier("urgent"), release_hours_before=48)
    response = scheduler_client.post(
        "/api/v1/appointments/",
        {
            "patient": bookable.patient.id,
            "surgeon": bookable.surgeon.id,
            "location": bookable.location.id,
            "appointment_type": bookable.visit.code,
            "tier": "standard",
            "start": bookable.at(9).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == availability.REFUSAL_RESERVED_FOR_TIER
    assert error["message"] == check(scheduler_client, bookable, bookable.at(9))["message"]
    assert dt.datetime.fromisoformat(error["release_at"]) == bookable.at(9) - dt.timedelta(hours=48)
    assert "next_slots" in error


def test_the_check_names_a_missing_parameter(scheduler_client: APIClient, bookable: BookablePractice) -> None:
    response = scheduler_client.get("/api/v1/slots/check/", {"surgeon": bookable.surgeon.id})
    assert response.status_code == 400
    assert {"location", "appointment_type", "tier", "start"} <= set(response.json()["error"]["fields"])


def test_the_check_is_for_schedulers_only(anonymous_client: APIClient, bookable: BookablePractice) -> None:
    assert anonymous_client.get("/api/v1/slots/check/").status_code in (401, 403)


CHICAGO = ZoneInfo("America/Chicago")
MONDAY = dt.date(2027, 3, 8)
NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


def local(quarter: int) -> dt.datetime:
    return dt.datetime.combine(MONDAY, dt.time(quarter // 4, (quarter % 4) * 15), tzinfo=CHICAGO)


def optional_span(low: int, high: int) -> st.SearchStrategy[tuple[int, int] | None]:
    return st.none() | st.tuples(st.integers(low, high), st.integers(1, 8)).map(lambda s: (s[0], s[0] + s[1]))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    duration=st.sampled_from([15, 30, 45, 60]),
    buffer=st.sampled_from([0, 10]),
    block=st.tuples(st.integers(26, 36), st.integers(4, 16)),
    closure=optional_span(28, 48),
    time_off=optional_span(28, 48),
    visit_at=st.none() | st.integers(28, 48),
    reserved=st.booleans(),
    minute=st.sampled_from([0, 5]),
    booking_tier=st.sampled_from(["standard", "urgent"]),
)
def test_the_check_says_bookable_exactly_when_slot_search_offers_the_start(
    duration: int,
    buffer: int,
    block: tuple[int, int],
    closure: tuple[int, int] | None,
    time_off: tuple[int, int] | None,
    visit_at: int | None,
    reserved: bool,
    minute: int,
    booking_tier: str,
) -> None:
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        location = LocationFactory(timezone="America/Chicago")
        OpeningHoursFactory(location=location, weekday=0, opens=dt.time(7), closes=dt.time(17))
        row = BlockFactory(
            location=location,
            weekday=0,
            start=local(block[0]).time(),
            end=local(block[0] + block[1]).time(),
            reserved_for_tier=tier("urgent") if reserved else None,
        )
        visit = AppointmentTypeFactory(
            code=f"visit-{duration}-{buffer}", duration_minutes=duration, buffer_minutes=buffer
        )
        if closure is not None:
            ClosureFactory(
                location=location,
                start_date=MONDAY,
                end_date=MONDAY,
                start_time=local(closure[0]).time(),
                end_time=local(closure[1]).time(),
            )
        if time_off is not None:
            TimeOffFactory(surgeon=row.surgeon, start=local(time_off[0]), end=local(time_off[1]))
        if visit_at is not None:
            AppointmentFactory(
                surgeon=row.surgeon, location=location, appointment_type=visit, start=local(visit_at)
            )
        offered = {
            slot.start
            for slot in slots_free(
                appointment_type=visit,
                tier=tier(booking_tier),
                start=local(0),
                end=local(95),
                location_ids=[location.id],
            )
        }
        client = APIClient()
        client.force_authenticate(SchedulerFactory())
        for quarter in range(24, 54):
            start = local(quarter) + dt.timedelta(minutes=minute)
            answer = client.get(
                "/api/v1/slots/check/",
                {
                    "surgeon": row.surgeon.id,
                    "location": location.id,
                    "appointment_type": visit.code,
                    "tier": booking_tier,
                    "start": start.isoformat(),
                },
            ).json()
            assert answer["bookable"] == (start in offered), f"{start:%H:%M}: {answer}"
            assert answer["bookable"] == (answer["code"] is None)
            assert answer["code"] is None or answer["code"] in availability.REFUSAL_CODES
        transaction.set_rollback(True)
