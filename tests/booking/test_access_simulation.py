"""The access simulator: a tiny practice solved by hand, determinism, and the real data untouched."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from booking.availability import BlockSpec, Calendar, HoursSpec, SlotRules
from booking.models import Appointment, VisitEvent
from booking.simulation import SimulationInputs, policy_parse, simulation_run, summary_table
from booking.simulation.records import Arrival, Templates, Tier
from booking.simulation.replay import replay_run
from booking.simulation.results import policy_summary
from locations.models import Block, Location, TimeOff
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    LocationFactory,
    OpeningHoursFactory,
)

CHICAGO = ZoneInfo("America/Chicago")
STANDARD = Tier(code="standard", rank=10, max_wait_days=14)
URGENT = Tier(code="urgent", rank=20, max_wait_days=3)
MONDAY = dt.date(2027, 3, 1)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO).astimezone(dt.UTC)


def one_surgeon_one_block() -> Templates:
    """One surgeon, one Monday block 08:00-12:00 in a clinic open weekdays 08:00-17:00, a
    60-minute visit on a 15-minute grid: four visits a week. Four weeks measured."""
    calendar = Calendar(
        timezones={1: "America/Chicago"},
        blocks=[
            BlockSpec(
                surgeon_id=1,
                location_id=1,
                weekday=0,
                start=dt.time(8),
                end=dt.time(12),
                valid_from=dt.date(2026, 1, 1),
            )
        ],
        hours=[HoursSpec(1, weekday, dt.time(8), dt.time(17)) for weekday in range(5)],
    )
    return Templates(
        calendar=calendar,
        tiers=(STANDARD, URGENT),
        rules=SlotRules(
            duration=dt.timedelta(minutes=60),
            buffer=dt.timedelta(0),
            grid=dt.timedelta(minutes=15),
            min_notice=dt.timedelta(0),
        ),
        start=local(MONDAY, 0),
        measure_start=local(MONDAY, 0),
        measure_end=local(MONDAY + dt.timedelta(weeks=4), 0),
        horizon_end=local(MONDAY + dt.timedelta(weeks=8), 0),
        zone_name="America/Chicago",
    )


def referral(index: int, tier: Tier, at: dt.datetime, *, cancels: bool = False) -> Arrival:
    return Arrival(index=index, tier=tier, at=at, cancels=cancels, cancel_fraction=0.5, no_show=False)


def test_referrals_that_overflow_one_block_wait_a_week_for_each_four_ahead_of_them() -> None:
    templates = one_surgeon_one_block()
    tuesday = MONDAY + dt.timedelta(days=1)
    arrivals = [referral(index, STANDARD, local(tuesday, 9, index)) for index in range(12)]

    result = replay_run(
        templates=templates, policy=policy_parse("none"), arrivals=arrivals, check_against_engine=True
    )

    starts = [visit.start for visit in result.visits]
    expected = [
        local(monday, hour)
        for monday in (dt.date(2027, 3, 8), dt.date(2027, 3, 15), dt.date(2027, 3, 22))
        for hour in (8, 9, 10, 11)
    ]
    assert starts == expected
    summary = policy_summary(templates=templates, result=result)
    standard = summary["tiers"]["standard"]
    # Days 6, 13 and 20 after the Tuesday referral: eight of twelve within the 14-day window.
    assert standard["within_window_share"] == round(8 / 12, 4)
    assert (standard["median_days"], standard["p90_days"]) == (13, 20)
    assert standard["days_histogram"] == {"6": 4, "13": 4, "20": 4}
    # Four Mondays of four visits measured; twelve booked.
    assert summary["bookable_hours"] == 16.0
    assert summary["utilisation"] == 0.75


def test_a_reserve_released_48_hours_before_keeps_monday_11_00_for_an_urgent_referral_on_friday() -> None:
    templates = one_surgeon_one_block()
    tuesday, friday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=4)
    arrivals = [referral(index, STANDARD, local(tuesday, 9, index)) for index in range(4)]
    arrivals.append(referral(4, URGENT, local(friday, 9)))

    reserved = replay_run(
        templates=templates,
        policy=policy_parse("reserve:25:48"),
        arrivals=arrivals,
        check_against_engine=True,
    )
    first_come = replay_run(
        templates=templates, policy=policy_parse("none"), arrivals=arrivals, check_against_engine=True
    )

    # A quarter of the block is its last hour, held until Saturday 11:00: the fourth standard
    # referral waits a week, and the urgent one is seen on Monday, three days after referral.
    assert [visit.start for visit in reserved.visits] == [
        local(dt.date(2027, 3, 8), 8),
        local(dt.date(2027, 3, 8), 9),
        local(dt.date(2027, 3, 8), 10),
        local(dt.date(2027, 3, 15), 8),
        local(dt.date(2027, 3, 8), 11),
    ]
    summary = policy_summary(templates=templates, result=reserved)
    assert summary["tiers"]["urgent"]["within_window_share"] == 1.0
    assert (summary["reserved_hours"], summary["reserved_hours_used_while_held"]) == (4.0, 1.0)
    assert summary["reserved_hours_released_unused"] == 3.0
    # First come, first served: Monday is full by Tuesday, and the urgent referral waits ten days.
    assert first_come.visits[4].start == local(dt.date(2027, 3, 15), 8)
    assert (
        policy_summary(templates=templates, result=first_come)["tiers"]["urgent"]["within_window_share"]
        == 0.0
    )


def test_a_cancelled_visit_goes_to_the_referral_waiting_longest_for_a_later_one() -> None:
    templates = one_surgeon_one_block()
    tuesday = MONDAY + dt.timedelta(days=1)
    arrivals = [referral(index, STANDARD, local(tuesday, 9, index), cancels=index == 1) for index in range(6)]

    result = replay_run(
        templates=templates, policy=policy_parse("none"), arrivals=arrivals, check_against_engine=True
    )

    assert result.visits[1].status == "cancelled"
    # The first of the two booked the Monday after takes the freed 09:00 (the two booked later
    # that Monday do not move up an hour); the other stays, not moving up on its own day.
    assert (result.visits[4].start, result.visits[4].moves) == (local(dt.date(2027, 3, 8), 9), 1)
    assert (result.visits[5].start, result.visits[5].moves) == (local(dt.date(2027, 3, 15), 9), 0)
    assert [visit.start for visit in result.visits[2:4]] == [
        local(dt.date(2027, 3, 8), hour) for hour in (10, 11)
    ]
    summary = policy_summary(templates=templates, result=result)
    assert summary["tiers"]["standard"]["cancelled"] == 1
    assert summary["tiers"]["standard"]["moved_earlier_from_waitlist"] == 1


# --- On the database: the real templates, read once ---------------------------------------------


@pytest.fixture
def practice(db: None) -> Appointment:
    """A clinic with one Monday block, and one real visit in it on Monday 8 March at 09:00."""
    location = LocationFactory(timezone="America/Chicago")
    for weekday in range(5):
        OpeningHoursFactory(location=location, weekday=weekday)
    visit_type = AppointmentTypeFactory(code="new-consultation", duration_minutes=60)
    block = BlockFactory(location=location)
    return AppointmentFactory(
        surgeon=block.surgeon,
        location=location,
        appointment_type=visit_type,
        start=local(dt.date(2027, 3, 8), 9),
    )


def inputs(**changes: object) -> SimulationInputs:
    values: dict[str, object] = {
        "weeks": 4,
        "warmup_weeks": 1,
        "arrivals_per_week": 5,
        "utilisation": None,
        "seed": 7,
        "start": MONDAY - dt.timedelta(weeks=1),
        "policies": (policy_parse("configured"), policy_parse("reserve:25:72")),
        "horizon_weeks": 6,
    }
    values.update(changes)
    return SimulationInputs(**values)  # type: ignore[arg-type]


NOW = local(MONDAY, 7) - dt.timedelta(weeks=1)


def test_the_same_seed_gives_the_same_result_and_another_seed_another(practice: Appointment) -> None:
    first = simulation_run(inputs=inputs(), now=NOW, check_against_engine=True)
    again = simulation_run(inputs=inputs(), now=NOW)
    other = simulation_run(inputs=inputs(seed=8), now=NOW)

    assert first == again
    assert summary_table(first) == summary_table(again)
    assert first["policies"] != other["policies"]


def test_the_simulation_counts_real_visits_as_busy_and_writes_nothing(practice: Appointment) -> None:
    tables = (Appointment, VisitEvent, Block, Block.history.model, Location, TimeOff)
    counts = {model: model.objects.count() for model in tables}
    visits = list(Appointment.objects.values())

    result = simulation_run(inputs=inputs(arrivals_per_week=12), now=NOW, check_against_engine=True)

    # Four measured Mondays of four hours, less the real visit's hour on 8 March.
    assert result["policies"][0]["bookable_hours"] == 15.0
    assert result["referrals"] > 0
    assert {model: model.objects.count() for model in tables} == counts
    assert list(Appointment.objects.values()) == visits


def test_the_command_prints_the_policies_side_by_side_and_writes_json_and_a_chart(
    practice: Appointment, tmp_path: Path
) -> None:
    out = StringIO()

    call_command(
        "simulate_access",
        "--weeks=3",
        "--arrivals-per-week=6",
        "--policy=none",
        "--policy=reserve:25:48",
        f"--json={tmp_path / 'result.json'}",
        f"--chart={tmp_path / 'chart.png'}",
        stdout=out,
    )

    printed = out.getvalue()
    assert "no reserve (first come, first served)" in printed
    assert "reserve 25% released 48h before" in printed
    assert [
        policy["policy"] for policy in json.loads((tmp_path / "result.json").read_text())["policies"]
    ] == [
        "none",
        "reserve:25:48",
    ]
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")


def test_the_command_refuses_a_policy_it_does_not_know(practice: Appointment) -> None:
    with pytest.raises(CommandError, match="not a policy"):
        call_command("simulate_access", "--policy=reserve-some", stdout=StringIO())
