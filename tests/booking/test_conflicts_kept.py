"""The kept conflict rows (PostgreSQL): after any sequence of changes to visits, hours, closures,
blocks, time off, locations and surgeons, the conflict list read from them equals judging every
visit afresh; and a read with nothing changed costs one query for the rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus, ConflictRecheck
from booking.selectors import appointment_conflicts
from booking.services import visit_conflicts_current, visit_conflicts_refresh
from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from tests.factories import (
    AppointmentTypeFactory,
    BlockFactory,
    ClosureFactory,
    LocationFactory,
    OpeningHoursFactory,
    PatientFactory,
    SurgeonFactory,
    tier,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

MONDAY = dt.date(2030, 3, 4)  # ahead of the real clock: these visits are all in the future


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour), tzinfo=dt.UTC)


def answer(found: list[Any]) -> list[tuple[int, str]]:
    return [(conflict.appointment.id, conflict.reason) for conflict in found]


def practice() -> tuple[list[Location], list[Surgeon]]:
    locations = [LocationFactory(timezone="America/Chicago"), LocationFactory(timezone="Europe/London")]
    surgeons = [SurgeonFactory(), SurgeonFactory()]
    for location in locations:
        for weekday in range(7):
            OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(6), closes=dt.time(20))
            for surgeon in surgeons:
                BlockFactory(
                    surgeon=surgeon, location=location, weekday=weekday, start=dt.time(6), end=dt.time(20)
                )
    return locations, surgeons


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("book"), st.integers(0, 1), st.integers(0, 1), st.integers(0, 6), st.integers(0, 23)
        ),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, 6), st.integers(0, 23)),
        st.tuples(st.just("closure"), st.integers(0, 1), st.integers(0, 6), st.booleans()),
        st.tuples(st.just("reopen"), st.integers(0, 10)),
        st.tuples(
            st.just("time_off"), st.integers(0, 1), st.integers(0, 6), st.integers(0, 23), st.integers(1, 30)
        ),
        st.tuples(st.just("back"), st.integers(0, 10)),
        st.tuples(
            st.just("hours"), st.integers(0, 1), st.integers(0, 6), st.integers(6, 12), st.integers(13, 20)
        ),
        st.tuples(
            st.just("block"), st.integers(0, 1), st.integers(0, 1), st.integers(0, 6), st.integers(6, 12)
        ),
        st.tuples(st.just("block_gone"), st.integers(0, 40)),
        st.tuples(
            st.just("deactivate"), st.sampled_from(["location", "surgeon"]), st.integers(0, 1), st.booleans()
        ),
        st.tuples(
            st.just("zone"), st.integers(0, 1), st.sampled_from(["America/Chicago", "Asia/Tokyo", "UTC"])
        ),
        st.just(("read",)),
    ),
    max_size=14,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_the_kept_rows_always_equal_judging_every_visit_afresh(steps: list[Any]) -> None:
    with transaction.atomic():
        locations, surgeons = practice()
        visit, standard = AppointmentTypeFactory(duration_minutes=45), tier()
        assert answer(visit_conflicts_current()) == answer(appointment_conflicts())
        for step in steps:
            apply(step, locations, surgeons, visit, standard)
            if step[0] != "read":
                assert answer(visit_conflicts_current()) == answer(appointment_conflicts()), step
                for location in locations:
                    assert answer(visit_conflicts_current(location_id=location.id)) == answer(
                        appointment_conflicts(location_id=location.id)
                    )
        transaction.set_rollback(True)


def nth(model: type[Any], index: int) -> Any:
    rows = list(model.objects.order_by("pk"))
    return rows[index % len(rows)] if rows else None


def apply(
    step: tuple[Any, ...], locations: list[Location], surgeons: list[Surgeon], visit: Any, standard: Any
) -> None:
    kind, *args = step
    if kind == "book":
        surgeon, location, day, hour = args
        start = at(day, hour)
        if not Appointment.objects.filter(
            surgeon=surgeons[surgeon], start__lt=start + dt.timedelta(hours=1), busy_until__gt=start
        ).exists():
            Appointment.objects.create(
                patient=PatientFactory(),
                surgeon=surgeons[surgeon],
                location=locations[location],
                appointment_type=visit,
                tier=standard,
                start=start,
                end=start + dt.timedelta(minutes=45),
                busy_until=start + dt.timedelta(minutes=45),
            )
    elif kind == "cancel" and (appointment := nth(Appointment, args[0])) is not None:
        appointment.status = AppointmentStatus.CANCELLED
        appointment.save()
    elif kind == "move" and (appointment := nth(Appointment, args[0])) is not None:
        start = at(args[1], args[2])
        if (
            not Appointment.objects.filter(
                surgeon=appointment.surgeon, start__lt=start + dt.timedelta(hours=1), busy_until__gt=start
            )
            .exclude(pk=appointment.pk)
            .exists()
        ):
            Appointment.objects.filter(pk=appointment.pk).update(
                start=start, end=start + dt.timedelta(minutes=45), busy_until=start + dt.timedelta(minutes=45)
            )
    elif kind == "closure":
        location, day, part = args
        ClosureFactory(
            location=locations[location],
            start_date=MONDAY + dt.timedelta(days=day),
            end_date=MONDAY + dt.timedelta(days=day),
            start_time=dt.time(10) if part else None,
            end_time=dt.time(12) if part else None,
        )
    elif kind == "reopen" and (closure := nth(Closure, args[0])) is not None:
        closure.delete()
    elif kind == "time_off":
        surgeon, day, hour, hours = args
        TimeOff.objects.create(
            surgeon=surgeons[surgeon],
            start=at(day, hour),
            end=at(day, hour) + dt.timedelta(hours=hours),
            reason="away",
        )
    elif kind == "back":
        TimeOff.objects.filter(
            pk__in=[row.pk for row in TimeOff.objects.order_by("pk")[args[0] : args[0] + 1]]
        ).delete()
    elif kind == "hours":
        location, weekday, opens, closes = args
        OpeningHours.objects.filter(location=locations[location], weekday=weekday).update(
            opens=dt.time(opens), closes=dt.time(closes)
        )
    elif kind == "block":
        surgeon, location, weekday, start = args
        Block.objects.filter(surgeon=surgeons[surgeon], location=locations[location], weekday=weekday).update(
            start=dt.time(start)
        )
    elif kind == "block_gone" and (block := nth(Block, args[0])) is not None:
        Block.objects.filter(pk=block.pk).delete()
    elif kind == "deactivate":
        model, index, active = args
        rows = locations if model == "location" else surgeons
        type(rows[index]).objects.filter(pk=rows[index].pk).update(is_active=active)
    elif kind == "zone":
        Location.objects.filter(pk=locations[args[0]].pk).update(timezone=args[1])


def test_a_read_with_nothing_changed_takes_two_queries(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    practice()
    visit_conflicts_refresh()
    with django_assert_num_queries(2):  # any changes noted? then the rows with their visits
        visit_conflicts_current()


def test_the_conflict_list_shows_a_closure_on_the_next_read(scheduler_client: APIClient) -> None:
    locations, surgeons = practice()
    visit = Appointment.objects.create(
        patient=PatientFactory(),
        surgeon=surgeons[0],
        location=locations[0],
        appointment_type=AppointmentTypeFactory(),
        tier=tier(),
        start=at(0, 15),
        end=at(0, 16),
        busy_until=at(0, 16),
    )
    assert scheduler_client.get("/api/v1/conflicts/").json()["results"] == []
    ClosureFactory(location=locations[0], start_date=MONDAY, end_date=MONDAY)
    assert [item["id"] for item in scheduler_client.get("/api/v1/conflicts/").json()["results"]] == [visit.id]
    assert not ConflictRecheck.objects.exists()


def test_the_beat_task_refreshes_the_rows_so_the_next_read_judges_nothing(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    from booking.tasks import refresh_visit_conflicts

    locations, _ = practice()
    ClosureFactory(location=locations[0], start_date=MONDAY, end_date=MONDAY)
    assert refresh_visit_conflicts() > 0
    assert refresh_visit_conflicts() == 0  # safe twice
    with django_assert_num_queries(2):
        visit_conflicts_current()
