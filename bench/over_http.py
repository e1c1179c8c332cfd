"""Requests over real HTTP (gunicorn), each beside the framework's floor measured in the same run;
prints ONE JSON line.

The floor is a DRF view that does nothing (bench/support/floor_urls.py) behind the same gunicorn,
middleware and JSON renderer. Every round asks the floor and each request once, so the machine's
load blurs them alike; figures are medians and p95s in milliseconds, and each request's median
is also given as a multiple of the floor's. Scenario A's practice (20 surgeons at one location,
Mon-Fri 08:00-16:30, a 30-minute type, 14 days from next Monday, 40% booked, 10 surgeon-days off):
(a) one surgeon's day, (b) the earliest slot across the 20 surgeons, (c) the first page (50) of
14 days of every surgeon's slots, the conflict list and the worklist; and a booking without and
with an Idempotency-Key. Goals: (a) within 2.5x the floor, (b) within 4x.

Usage: `make bench`, or `.venv/bin/python bench/over_http.py`. BENCH_HTTP_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/bench_http) names the database; it is dropped and re-created.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_HTTP_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_http")
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "SECRET_KEY": "bench-only-not-a-secret",
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",  # plain http to 127.0.0.1
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SMS_BACKEND": "console",
    "LOG_LEVEL": "ERROR",
    "DJANGO_SETTINGS_MODULE": "bench.support.floor_settings",
}
os.environ.update(ENV)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")

ROUNDS = 150
BOOKINGS = 40
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
SLOT = dt.timedelta(minutes=30)
GOALS = {"a_one_surgeon_day": 2.5, "b_earliest_20_surgeons": 4.0}


def recreate_database() -> None:
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def seed(monday: dt.date) -> dict[str, Any]:
    """Scenario A's practice, written with bulk inserts."""
    import django

    django.setup()
    from zoneinfo import ZoneInfo

    from django.core.management import call_command

    from booking.models import Appointment, Patient
    from locations.models import Block, Location, OpeningHours, Surgeon, TimeOff
    from practice.logins import token_create
    from practice.models import AppointmentType, UrgencyTier
    from practice.services import user_create_or_update

    call_command("migrate", verbosity=0)
    rng = random.Random(20270301)
    zone = ZoneInfo("America/Chicago")
    location = Location.objects.create(name="Bench clinic", timezone="America/Chicago")
    OpeningHours.objects.bulk_create(
        OpeningHours(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(16, 30))
        for weekday in range(5)
    )
    visit = AppointmentType.objects.create(code="bench-30", name="Bench visit", duration_minutes=30)
    standard = UrgencyTier.objects.get(code="standard")
    surgeons = Surgeon.objects.bulk_create(
        Surgeon(first_name=f"S{index}", last_name="Bench", display_name=f"Dr. {index}") for index in range(20)
    )
    Block.objects.bulk_create(
        Block(
            surgeon=surgeon,
            location=location,
            weekday=weekday,
            start=dt.time(8),
            end=dt.time(16, 30),
            valid_from=monday - dt.timedelta(days=7),
        )
        for surgeon in surgeons
        for weekday in range(5)
    )
    days = [monday + dt.timedelta(days=offset) for offset in range(14) if offset % 7 < 5]
    days_off = rng.sample([(surgeon, day) for surgeon in surgeons for day in days], 10)
    TimeOff.objects.bulk_create(
        TimeOff(
            surgeon=surgeon,
            start=dt.datetime.combine(day, dt.time(0), tzinfo=zone),
            end=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
            reason="bench",
        )
        for surgeon, day in days_off
    )
    patients = Patient.objects.bulk_create(
        Patient(
            first_name="Pat",
            last_name=f"Bench {index}",
            date_of_birth=dt.date(1970, 1, 1),
            phone="+13125550199",
        )
        for index in range(20 + 2 * BOOKINGS)
    )
    visits = []
    free: list[tuple[Any, dt.datetime]] = []
    for surgeon, patient in zip(surgeons, patients, strict=False):
        for day in days:
            for index in range(17):
                start = dt.datetime.combine(day, dt.time(8), tzinfo=zone) + index * SLOT
                if rng.random() < 0.4:
                    visits.append(
                        Appointment(
                            patient=patient,
                            surgeon=surgeon,
                            location=location,
                            appointment_type=visit,
                            tier=standard,
                            start=start,
                            end=start + SLOT,
                            busy_until=start + SLOT,
                        )
                    )
                elif day < monday + dt.timedelta(days=7) and (surgeon, day) not in days_off:  # bookable
                    free.append((surgeon, start))
    Appointment.objects.bulk_create(visits, batch_size=5000)
    user = user_create_or_update(username="bench-scheduler", role="scheduler", password="bench-password-123")  # noqa: S106 (a throwaway bench login)
    return {
        "token": token_create(user=user).secret,
        "surgeon": surgeons[0].id,
        "location": location.id,
        "free": rng.sample(free, 2 * BOOKINGS),
        "patients": [patient.id for patient in patients[20:]],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    import requests

    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "practice.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/bench/floor/", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 2),
    }


def main() -> None:
    import requests

    recreate_database()
    today = dt.datetime.now(tz=dt.UTC).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    world = seed(monday)
    port = free_port()
    load_before = os.getloadavg()[0]
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"Token {world['token']}"
    requests_by_name: dict[str, tuple[str, dict[str, Any]]] = {
        "floor": ("/bench/floor/", {}),
        "a_one_surgeon_day": (
            "/api/v1/slots/",
            {
                "appointment_type": "bench-30",
                "tier": "standard",
                "surgeon": world["surgeon"],
                "start": monday.isoformat(),
                "end": monday.isoformat(),
            },
        ),
        "b_earliest_20_surgeons": (
            "/api/v1/slots/earliest/",
            {"appointment_type": "bench-30", "tier": "standard", "limit": 1},
        ),
        "c_first_page_14_days": (
            "/api/v1/slots/",
            {
                "appointment_type": "bench-30",
                "tier": "standard",
                "start": monday.isoformat(),
                "end": (monday + dt.timedelta(days=13)).isoformat(),
                "limit": 50,
            },
        ),
        "conflicts": ("/api/v1/conflicts/", {}),
        "worklist": ("/api/v1/worklist/", {}),
    }
    samples: dict[str, list[float]] = {name: [] for name in requests_by_name}
    try:
        for round_number in range(ROUNDS + 10):
            for name, (path, params) in requests_by_name.items():
                started = time.perf_counter()
                response = session.get(base + path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
                if round_number >= 10:  # the first rounds warm the workers (connections, caches)
                    samples[name].append(elapsed)
        booking: dict[str, list[float]] = {"unkeyed": [], "keyed": []}
        for index, (surgeon, start) in enumerate(world["free"]):
            kind = "keyed" if index % 2 else "unkeyed"
            headers = {"Idempotency-Key": f"bench-{index}"} if kind == "keyed" else {}
            body = {
                "patient": world["patients"][index],
                "surgeon": surgeon.id,
                "location": world["location"],
                "appointment_type": "bench-30",
                "tier": "standard",
                "start": start.isoformat(),
            }
            started = time.perf_counter()
            response = session.post(base + "/api/v1/appointments/", json=body, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 201:
                raise SystemExit(f"booking answered {response.status_code}: {response.content[:300]!r}")
            booking[kind].append(elapsed)
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor = statistics.median(samples["floor"])
    figures: dict[str, Any] = {
        "benchmark": "http",
        "gunicorn_workers": GUNICORN_WORKERS,
        "rounds": ROUNDS,
        "load_average_before": round(load_before, 2),
        "drf_floor_ms": summary(samples["floor"]),
        "requests_ms": {name: summary(values) for name, values in samples.items() if name != "floor"},
        "times_the_floor": {
            name: round(statistics.median(values) / floor, 2)
            for name, values in samples.items()
            if name != "floor"
        },
        "goal_times_the_floor": GOALS,
        "booking_ms": {kind: summary(values) for kind, values in booking.items()},
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    figures["goal_met"] = all(figures["times_the_floor"][name] <= goal for name, goal in GOALS.items())
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
