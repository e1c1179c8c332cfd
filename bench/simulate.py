"""Access simulator benchmark: seeds PostgreSQL in its own database and prints ONE JSON line.

A large practice: 10 locations in four zones, open Monday to Friday 08:00-17:00; 60 surgeons,
each with three half-day blocks a week at one location (one of them held for urgent patients
until 48 hours before) and a week of time off; a 60-minute new consultation with a 10-minute
buffer and 24 hours' notice (three to a half day). `simulate_access`'s defaults otherwise: 26
weeks measured after 2 of warm-up, 80/20 standard/urgent, cancellations 8%, no-shows 5%, the
waitlist on; 540 referrals a week (about 15,000 in all, near 96% of the bookable hours once 8%
cancel). Times the whole run for each
policy (the templates' load, the replay, the figures) and all of them together.

Usage: `.venv/bin/python bench/simulate.py`. BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/bench_simulate) names the database; it is dropped and re-created.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_simulate")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ["LOG_LEVEL"] = "WARNING"
os.environ.setdefault("SMS_BACKEND", "locmem")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")

SEED = 20270418
GOAL_SECONDS = 60
# 28 weeks (2 of warm-up and 26 measured) of 540 referrals: about 15,000, near 95% of the
# practice's 519 bookable visits a week once 8% cancel.
ARRIVALS_PER_WEEK = 540
ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Phoenix"]
HALF_DAYS = [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))]


def recreate_database() -> None:
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


recreate_database()

import django  # noqa: E402 - configured from the environment set above

django.setup()

from django.core.management import call_command  # noqa: E402

from booking.simulation import SimulationInputs, policy_parse, simulation_run  # noqa: E402
from locations.models import Block, Location, OpeningHours, Surgeon, TimeOff  # noqa: E402
from practice.models import AppointmentType, UrgencyTier  # noqa: E402


def seed(first_day: dt.date) -> None:
    rng = random.Random(SEED)
    urgent = UrgencyTier.objects.get(code="urgent")
    AppointmentType.objects.create(
        code="new-consultation",
        name="New consultation",
        duration_minutes=60,
        buffer_minutes=10,
        min_notice_hours=24,
    )
    for index in range(10):
        zone = ZONES[index % len(ZONES)]
        location = Location.objects.create(name=f"Clinic {index}", timezone=zone)
        OpeningHours.objects.bulk_create(
            OpeningHours(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
            for weekday in range(5)
        )
        surgeons = Surgeon.objects.bulk_create(
            Surgeon(first_name=f"S{number}", last_name=f"Clinic{index}", display_name=f"Dr. {number}-{index}")
            for number in range(6)
        )
        blocks = []
        for surgeon in surgeons:
            slots = rng.sample([(weekday, half) for weekday in range(5) for half in range(2)], 3)
            for position, (weekday, half) in enumerate(sorted(slots)):
                start, end = HALF_DAYS[half]
                blocks.append(
                    Block(
                        surgeon=surgeon,
                        location=location,
                        weekday=weekday,
                        start=start,
                        end=end,
                        valid_from=first_day - dt.timedelta(days=7),
                        reserved_for_tier=urgent if position == 0 else None,
                        release_hours_before=48,
                    )
                )
            away = first_day + dt.timedelta(weeks=rng.randrange(2, 26))
            TimeOff.objects.create(
                surgeon=surgeon,
                start=dt.datetime.combine(away, dt.time(0), tzinfo=dt.UTC),
                end=dt.datetime.combine(away + dt.timedelta(days=7), dt.time(0), tzinfo=dt.UTC),
                reason="Holiday",
            )
        Block.objects.bulk_create(blocks)


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    today = dt.datetime.now(tz=dt.UTC).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    seed(monday)
    figures: dict[str, object] = {
        "benchmark": "simulate",
        "load_average_before": round(os.getloadavg()[0], 2),
    }
    runs = {}
    for policies in (("configured",), ("none",), ("reserve:25:72",), ("configured", "none", "reserve:25:72")):
        inputs = SimulationInputs(
            start=monday,
            seed=1,
            arrivals_per_week=ARRIVALS_PER_WEEK,
            utilisation=None,
            policies=tuple(policy_parse(text) for text in policies),
        )
        began = time.perf_counter()
        result = simulation_run(inputs=inputs)
        seconds = round(time.perf_counter() - began, 1)
        runs[" + ".join(policies)] = {
            "seconds": seconds,
            "within_goal": seconds < GOAL_SECONDS * len(policies),
            "referrals": result["referrals"],
            "load_average": round(os.getloadavg()[0], 2),
            "figures": {
                policy["policy"]: {
                    "utilisation": policy["utilisation"],
                    **{
                        code: [tier["within_window_share"], tier["median_days"], tier["p90_days"]]
                        for code, tier in policy["tiers"].items()
                    },
                }
                for policy in result["policies"]
            },
        }
        figures["practice"] = result["practice"]
    figures["runs"] = runs
    figures["goal_seconds_per_policy"] = GOAL_SECONDS
    figures["load_average_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
