"""The visit page's speed on PostgreSQL; prints one JSON line.

Server time of the page a patient opens from a text (GET /v/<token>, date of birth given: the
visit and its actions), of the "pick another time" list (GET /v/<token>/times), and of picking a
new time (POST /v/<token>/times: the offered-time check and the move through booking's reschedule
service), each in-process through Django's test client, median and p95 wall ms. Goals: the page
under 50 ms, picking a time under 100 ms. The clinic: four surgeons on weekdays 08:00-17:00, a
visit every other half hour booked for the next three weeks.

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_self_service),
dropped and recreated at the start of each run and dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_self_service")
os.environ.update(
    {
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "SECRET_KEY": "bench-only-not-a-secret",
        "DEBUG": "false",
        # Plain http to 127.0.0.1: production redirects it to https.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SMS_BACKEND": "console",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "practice.settings",
    }
)

ROUNDS = 100
MOVES = 40
WARM_UP = 10
SURGEONS = 4
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def _admin(sql: str) -> None:
    import psycopg

    parsed = urlparse(DATABASE_URL)
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(sql.format(name=parsed.path.lstrip("/")))


def _ms(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings) * 1000, timings[int(len(timings) * 0.95)] * 1000


def _practice() -> list[Any]:
    """The clinic, and its future visits (one every other half hour of every surgeon's day)."""
    from booking.models import Appointment, Patient
    from locations.models import Block, Location, OpeningHours, Surgeon
    from practice.models import AppointmentType, UrgencyTier

    location = Location.objects.create(
        name="Lakeview Clinic", address="400 N Lake Shore Dr, Chicago", timezone="America/Chicago"
    )
    visit_type = AppointmentType.objects.create(code="follow-up", name="Follow-up", duration_minutes=30)
    standard = UrgencyTier.objects.get(code="standard")
    today = dt.datetime.now(CHICAGO).date()
    surgeons = []
    for n in range(SURGEONS):
        surgeon = Surgeon.objects.create(
            first_name="Bench", last_name=f"Surgeon {n}", display_name=f"Dr. {n}"
        )
        surgeons.append(surgeon)
        for weekday in range(5):
            Block.objects.create(
                surgeon=surgeon,
                location=location,
                weekday=weekday,
                start=dt.time(8),
                end=dt.time(17),
                valid_from=today,
            )
    for weekday in range(5):
        OpeningHours.objects.create(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
    visits = []
    number = 0
    for day in range(2, 23):
        date = today + dt.timedelta(days=day)
        if date.weekday() >= 5:
            continue
        for surgeon in surgeons:
            for hour in range(8, 17):
                number += 1
                start = dt.datetime.combine(date, dt.time(hour), tzinfo=CHICAGO).astimezone(dt.UTC)
                patient = Patient.objects.create(
                    first_name="Bench",
                    last_name=f"Patient {number}",
                    date_of_birth=dt.date(1970, 5, 17),
                    phone=f"+1312555{number % 10000:04d}",
                    sms_consent=False,
                )
                visits.append(
                    Appointment(
                        patient=patient,
                        surgeon=surgeon,
                        location=location,
                        appointment_type=visit_type,
                        tier=standard,
                        start=start,
                        end=start + dt.timedelta(minutes=30),
                        busy_until=start + dt.timedelta(minutes=30),
                    )
                )
    return Appointment.objects.bulk_create(visits)


def _client_for(visit: Any) -> tuple[Any, str]:
    from django.test import Client

    from notifications.visit_links import visit_link_token

    client = Client()
    token = visit_link_token(appointment=visit)
    response = client.post(f"/v/{token}", {"day": "17", "month": "5", "year": "1970"})
    assert response.status_code == 302, response.status_code
    return client, token


def bench_get(visits: list[Any], suffix: str) -> tuple[float, float]:
    timings = []
    for round_ in range(WARM_UP + ROUNDS):
        client, token = _client_for(visits[round_ % len(visits)])
        started = time.perf_counter()
        response = client.get(f"/v/{token}{suffix}")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        if round_ >= WARM_UP:
            timings.append(elapsed)
    return _ms(timings)


def bench_move(visits: list[Any]) -> tuple[float, float]:
    from django.utils import timezone

    from booking.models import Appointment
    from notifications.visit_page.services import visit_times_offered

    timings = []
    for round_ in range(WARM_UP + MOVES):
        visit = Appointment.objects.select_related("location", "appointment_type", "tier").get(
            pk=visits[round_].pk
        )
        client, token = _client_for(visit)
        slot = visit_times_offered(visit=visit, now=timezone.now())[-1]
        started = time.perf_counter()
        response = client.post(
            f"/v/{token}/times", {"slot": f"{slot.surgeon_id}@{int(slot.start.timestamp())}"}
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 302, response.content[:500]
        if round_ >= WARM_UP:
            timings.append(elapsed)
    return _ms(timings)


def main() -> None:
    _admin('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin('CREATE DATABASE "{name}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from practice.catalogs import catalogs_compile

        catalogs_compile()
        call_command("migrate", verbosity=0)
        visits = _practice()
        page_ms, page_p95 = bench_get(visits[-200:], "")
        times_ms, times_p95 = bench_get(visits[-200:], "/times")
        move_ms, move_p95 = bench_move(visits[-(WARM_UP + MOVES) :])
        connection.close()
    finally:
        _admin('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        json.dumps(
            {
                "bench": "self_service",
                "database": "postgresql",
                "booked_visits": len(visits),
                "page_ms_median": round(page_ms, 2),
                "page_ms_p95": round(page_p95, 2),
                "page_goal_ms": 50,
                "times_page_ms_median": round(times_ms, 2),
                "times_page_ms_p95": round(times_p95, 2),
                "pick_new_time_ms_median": round(move_ms, 2),
                "pick_new_time_ms_p95": round(move_p95, 2),
                "pick_new_time_goal_ms": 100,
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
