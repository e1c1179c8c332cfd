"""Booking and slot search agree: a start can be booked exactly when search offers it.

Whatever the block, closure, time off, existing visit, buffer and tier reservation, every
quarter-hour of the morning is tried: the booking service accepts the offered starts and refuses
(409) every other one. Each attempt runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.selectors import slots_free
from booking.services import SlotUnavailable, appointment_book
from practice.errors import DomainError
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    ClosureFactory,
    LocationFactory,
    OpeningHoursFactory,
    PatientFactory,
    TimeOffFactory,
    tier,
)

pytestmark = pytest.mark.django_db

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
    block=st.tuples(st.integers(28, 36), st.integers(4, 16)),
    closure=optional_span(28, 48),
    time_off=optional_span(28, 48),
    visit_at=st.none() | st.integers(28, 48),
    reserved=st.booleans(),
    booking_tier=st.sampled_from(["standard", "urgent"]),
)
def test_a_start_is_bookable_exactly_when_search_offers_it(
    duration: int,
    buffer: int,
    block: tuple[int, int],
    closure: tuple[int, int] | None,
    time_off: tuple[int, int] | None,
    visit_at: int | None,
    reserved: bool,
    booking_tier: str,
) -> None:
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        location = LocationFactory(timezone="America/Chicago")
        OpeningHoursFactory(location=location, weekday=0, opens=dt.time(7), closes=dt.time(17))
        block_start, block_length = block
        row = BlockFactory(
            location=location,
            weekday=0,
            start=local(block_start).time(),
            end=local(block_start + block_length).time(),
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
        patient = PatientFactory()
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
        for quarter in range(28, 54):
            start = local(quarter)
            try:
                with transaction.atomic():
                    appointment_book(
                        patient=patient,
                        surgeon=row.surgeon,
                        location=location,
                        appointment_type=visit,
                        tier=tier(booking_tier),
                        start=start,
                        window_override_reason="Any window; this test is about slots",
                    )
                    transaction.set_rollback(True)
                booked = True
            except DomainError as error:
                assert error.code in SlotUnavailable.codes
                booked = False
            assert booked == (start in offered), f"{start:%H:%M} offered={start in offered}"
        transaction.set_rollback(True)
