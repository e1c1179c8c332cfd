"""Booking throughput and contention on PostgreSQL; prints one JSON line.

- bookings per second over HTTP (gunicorn, real workers) with 1 and with 8 concurrent clients,
  each booking a distinct free slot;
- contention: 50 clients racing for one slot, and how many appointments the slot holds
  afterwards, counted by SQL (must be 1);
- milliseconds per booking in-process through `appointment_book` with full validation (slot
  re-validated by the search code, tier window, patient overlap, the exclusion constraints, the
  notification hooks; the texts reach the broker from the relay thread, one publish per
  ~50 ms of bookings), and of the slot check alone; each also as this process's CPU time, which
  the load of a shared machine blurs less. A publish falls inside few bookings' windows, so the
  CPU median leaves the relay out and the CPU mean spreads it over every booking;
- the database's floor: one row inserted and committed with nothing else, at the same moment.

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_booking),
dropped and recreated on each run, and Redis db 3 for the broker (BENCH_REDIS_URL).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_booking")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-not-a-secret",
    "DEBUG": "false",
    # Plain http to 127.0.0.1: production redirects it to https.
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SMS_BACKEND": "console",
    "LOG_LEVEL": "ERROR",
    "DJANGO_SETTINGS_MODULE": "practice.settings",
}
os.environ.update(ENV)

SURGEONS = 12
IN_PROCESS_BOOKINGS = 300
# Bookings made before timing, as the HTTP run warms its workers: first-use costs (the broker
# connection, per-process SQL caches, zone files) are not a booking's.
IN_PROCESS_WARM_UP = 20
SINGLE_CLIENT_BOOKINGS = 200
MULTI_CLIENTS = 8
MULTI_CLIENT_BOOKINGS = 480
CONTENDERS = 50
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))


def recreate_database() -> None:
    import psycopg

    parsed = urlparse(DATABASE_URL)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def set_up() -> dict[str, Any]:
    """A practice with SURGEONS surgeons working every day 07:00-19:00, and their free slots."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from booking.models import Patient
    from booking.selectors import slots_free
    from locations.models import Block, Location, OpeningHours, Surgeon
    from practice.logins import token_create
    from practice.models import AppointmentType, UrgencyTier
    from practice.services import user_create_or_update

    call_command("migrate", verbosity=0)
    location = Location.objects.create(name="Bench clinic", timezone="America/Chicago")
    for weekday in range(7):
        OpeningHours.objects.create(location=location, weekday=weekday, opens=dt.time(7), closes=dt.time(19))
    visit = AppointmentType.objects.create(code="bench-visit", name="Bench visit", duration_minutes=15)
    today = timezone.localdate()
    for number in range(SURGEONS):
        surgeon = Surgeon.objects.create(
            first_name="Bench", last_name=f"Surgeon {number}", display_name=f"Dr. {number}"
        )
        for weekday in range(7):
            Block.objects.create(
                surgeon=surgeon,
                location=location,
                weekday=weekday,
                start=dt.time(7),
                end=dt.time(19),
                valid_from=today,
            )
    tier = UrgencyTier.objects.get(code="standard")
    now = timezone.now()
    slots = slots_free(
        appointment_type=visit, tier=tier, start=now + dt.timedelta(hours=2), end=now + dt.timedelta(days=12)
    )
    needed = IN_PROCESS_WARM_UP + IN_PROCESS_BOOKINGS + SINGLE_CLIENT_BOOKINGS + MULTI_CLIENT_BOOKINGS + 1
    assert len(slots) >= needed, f"only {len(slots)} free slots"
    patients = Patient.objects.bulk_create(
        Patient(
            first_name="Bench",
            last_name=f"Patient {index}",
            date_of_birth=dt.date(1970, 1, 1),
            phone=f"+1312555{index:04d}",
            sms_consent=True,
        )
        for index in range(needed + CONTENDERS)
    )
    user = user_create_or_update(username="bench-scheduler", role="scheduler", password="bench-password-123")  # noqa: S106 (a throwaway bench login)
    token = token_create(user=user).secret
    return {
        "location": location,
        "visit": visit,
        "tier": tier,
        "slots": slots,
        "patients": patients,
        "token": token,
    }


def bench_in_process(
    world: dict[str, Any], slots: list[Any], patients: list[Any]
) -> tuple[float, float, float, float]:
    """Median and mean wall ms per booking, and median and mean CPU ms of this process (the
    figures the shared machine's load blurs least; PostgreSQL's own time is not in them)."""
    from django.contrib.auth.models import User

    from booking.services import appointment_book
    from locations.models import Location, Surgeon

    surgeons = {surgeon.pk: surgeon for surgeon in Surgeon.objects.all()}
    location = Location.objects.get(pk=world["location"].pk)
    user = User.objects.get(username="bench-scheduler")
    timings, cpu = [], []
    for slot, patient in zip(slots, patients, strict=True):
        started, started_cpu = time.perf_counter(), time.process_time()
        appointment_book(
            patient=patient,
            surgeon=surgeons[slot.surgeon_id],
            location=location,
            appointment_type=world["visit"],
            tier=world["tier"],
            start=slot.start,
            booked_by=user,
        )
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return (
        statistics.median(timings) * 1000,
        statistics.mean(timings) * 1000,
        statistics.median(cpu) * 1000,
        statistics.mean(cpu) * 1000,
    )


def bench_slot_check(world: dict[str, Any], slots: list[Any]) -> tuple[float, float]:
    """Median wall and CPU ms of the slot re-validation alone (slot search's code)."""
    from booking.selectors import slot_is_free

    timings, cpu = [], []
    for slot in slots:
        started, started_cpu = time.perf_counter(), time.process_time()
        assert slot_is_free(
            appointment_type=world["visit"],
            tier=world["tier"],
            surgeon_id=slot.surgeon_id,
            location_id=slot.location_id,
            start=slot.start,
        )
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(timings) * 1000, statistics.median(cpu) * 1000


def bench_floor() -> float:
    """Median wall ms of the least a durable write costs on this database right now: one row
    inserted and committed over the same connection, with no Django in the way. It moves with the
    machine's load as the booking figures do, so it says how far a booking is from the floor."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, at timestamptz)")
    raw = connection.connection
    timings = []
    for _ in range(300):
        started = time.perf_counter()
        raw.execute("INSERT INTO bench_floor (at) VALUES (now())")
        raw.commit()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def body(world: dict[str, Any], slot: Any, patient: Any) -> dict[str, Any]:
    return {
        "patient": patient.pk,
        "surgeon": slot.surgeon_id,
        "location": slot.location_id,
        "appointment_type": world["visit"].code,
        "tier": "standard",
        "start": slot.start.isoformat(),
    }


def http_clients(
    base: str, token: str, bodies: list[dict[str, Any]], clients: int
) -> tuple[float, list[int]]:
    """POST every body, `clients` at a time; returns (bookings per second, status codes)."""
    import requests

    statuses: list[int] = []
    lock = threading.Lock()
    chunks = [bodies[index::clients] for index in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def run(chunk: list[dict[str, Any]]) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        barrier.wait()
        for payload in chunk:
            response = session.post(f"{base}/api/v1/appointments/", json=payload, timeout=30)
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, statuses


def start_server(port: int) -> subprocess.Popen[bytes]:
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
    import requests

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code in {200, 503}:
                    return server
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")
    except BaseException:
        server.terminate()
        server.wait(timeout=30)
        raise


def main() -> None:
    recreate_database()
    world = set_up()
    slots, patients = world["slots"], world["patients"]
    # Spread the bookings over the surgeons and days: distinct, non-overlapping slots.
    warm_up, slots = slots[:IN_PROCESS_WARM_UP], slots[IN_PROCESS_WARM_UP:]
    in_process = slots[:IN_PROCESS_BOOKINGS]
    single = slots[IN_PROCESS_BOOKINGS : IN_PROCESS_BOOKINGS + SINGLE_CLIENT_BOOKINGS]
    multi = slots[
        IN_PROCESS_BOOKINGS + SINGLE_CLIENT_BOOKINGS : IN_PROCESS_BOOKINGS
        + SINGLE_CLIENT_BOOKINGS
        + MULTI_CLIENT_BOOKINGS
    ]
    contended = slots[-1]
    pool = iter(patients)

    bench_in_process(world, warm_up, [next(pool) for _ in warm_up])
    median_ms, mean_ms, cpu_ms, cpu_mean_ms = bench_in_process(
        world, in_process, [next(pool) for _ in in_process]
    )
    slot_check_ms, slot_check_cpu_ms = bench_slot_check(world, single)
    floor_ms = bench_floor()

    from django.db import connection

    connection.close()
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        # Warm every worker's connection and imports before timing.
        http_clients(base, world["token"], [{"warm": True}] * (GUNICORN_WORKERS * 2), GUNICORN_WORKERS)
        one_rate, one_statuses = http_clients(
            base, world["token"], [body(world, slot, next(pool)) for slot in single], 1
        )
        many_rate, many_statuses = http_clients(
            base, world["token"], [body(world, slot, next(pool)) for slot in multi], MULTI_CLIENTS
        )
        _, racing_statuses = http_clients(
            base, world["token"], [body(world, contended, next(pool)) for _ in range(CONTENDERS)], CONTENDERS
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM booking_appointment WHERE surgeon_id = %s AND start = %s"
            " AND status IN ('booked', 'confirmed', 'checked_in', 'completed')",
            [contended.surgeon_id, contended.start],
        )
        (held,) = cursor.fetchone()
    assert all(status == 201 for status in one_statuses + many_statuses), "a distinct-slot booking failed"
    print(
        json.dumps(
            {
                "bench": "booking",
                "database": "postgresql",
                "gunicorn_workers": GUNICORN_WORKERS,
                "http_bookings_per_second_1_client": round(one_rate, 1),
                "http_bookings_per_second_8_clients": round(many_rate, 1),
                "contention_clients": CONTENDERS,
                "contention_created": racing_statuses.count(201),
                "contention_refused_409": racing_statuses.count(409),
                "contention_slot_holds_sql": held,
                "in_process_ms_per_booking_median": round(median_ms, 2),
                "in_process_ms_per_booking_mean": round(mean_ms, 2),
                "in_process_goal_ms": 5,
                "in_process_ms_slot_check_median": round(slot_check_ms, 2),
                "in_process_cpu_ms_per_booking_median": round(cpu_ms, 2),
                "in_process_cpu_ms_per_booking_mean": round(cpu_mean_ms, 2),
                "in_process_cpu_ms_slot_check_median": round(slot_check_cpu_ms, 2),
                "database_floor_ms_insert_commit_median": round(floor_ms, 2),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    if held != 1:
        sys.exit("the contended slot holds more than one appointment")


if __name__ == "__main__":
    main()
