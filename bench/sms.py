"""SMS throughput and latency through one Celery worker process; prints one JSON line.

- messages per second: a batch of 10,000 confirmations is committed and enqueued first, then one
  worker process (thread pool) sends them through twilio-python to the fake Twilio; measured from
  the first text the fake receives to the last; then 3,000 more with the fake answering each
  send after 200 ms, as the real Twilio takes about that long;
- latency: visits booked one by one (each in its own transaction with its booked event, at a
  steady pace, worker idle) — from the commit to the fake receiving the text, through the relay,
  the worker's reaction to the event and the send (median and p95, milliseconds);
- duplicates and losses, counted after the run from what the fake received (both must be 0);
- what the texts add to booking's transaction: the event row (median milliseconds, and queries).

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_sms),
dropped and recreated on each run, and a redis-server of its own on a free port (never the
shared one). BENCH_SMS_MESSAGES and BENCH_SMS_THREADS change the batch size and pool size.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_sms")
MESSAGES = int(os.environ.get("BENCH_SMS_MESSAGES", "10000"))
# A second batch with the fake answering each send after TWILIO_LATENCY seconds, as Twilio does.
SLOW_MESSAGES = int(os.environ.get("BENCH_SMS_SLOW_MESSAGES", "3000"))
TWILIO_LATENCY = float(os.environ.get("BENCH_SMS_TWILIO_LATENCY", "0.2"))
THREADS = int(os.environ.get("BENCH_SMS_THREADS", "32"))
LATENCY_BOOKINGS = 300
LATENCY_PACE_PER_SECOND = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


REDIS_PORT = free_port()
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "CELERY_BROKER_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-not-a-secret",
    "DEBUG": "false",
    # Plain http to 127.0.0.1: production redirects it to https.
    "SECURE_SSL_REDIRECT": "false",
    "SMS_BACKEND": "twilio",
    "SMS_QUIET_HOURS": "",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "practice.settings",
}
os.environ.update(ENV)

from tests.notifications.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio  # noqa: E402

FAKE = FakeTwilio().start()
os.environ.update(
    {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": FAKE.base_url,
    }
)


def recreate_database() -> None:
    import psycopg

    parsed = urlparse(DATABASE_URL)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def start_redis() -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    assert wait_until(answers, timeout=10), "redis-server did not start"
    return process


def start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "workers.celery:app",
            "worker",
            "-Q",
            "sms",
            "--pool",
            "threads",
            "--concurrency",
            str(THREADS),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User and system CPU the worker process has used (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def message_id(callback: str) -> int:
    return int(parse_qs(urlparse(callback).query)["message"][0])


def main() -> None:
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from booking.models import Appointment, Patient, VisitEventKind
    from booking.services import event_record
    from locations.models import Location, Surgeon
    from notifications import tasks
    from notifications.models import Message, MessageKind, MessageStatus
    from practice.models import AppointmentType, UrgencyTier

    location = Location.objects.create(name="Lakeview Clinic", timezone="America/Chicago")
    surgeon = Surgeon.objects.create(first_name="Ada", last_name="Bench", display_name="Dr. Bench")
    kind = AppointmentType.objects.create(code="bench", name="Bench", duration_minutes=15)
    tier = UrgencyTier.objects.order_by("rank").first()
    assert tier is not None
    total = MESSAGES + SLOW_MESSAGES + LATENCY_BOOKINGS
    patients = Patient.objects.bulk_create(
        Patient(
            first_name="Pat",
            last_name=f"Bench{n}",
            date_of_birth=dt.date(1970, 1, 1),
            phone=f"+1312{n:07d}",
            sms_consent=True,
        )
        for n in range(total)
    )
    first = timezone.now() + dt.timedelta(days=2)

    def visit(n: int) -> Appointment:
        start = first + dt.timedelta(minutes=15 * n)
        return Appointment(
            patient=patients[n],
            surgeon=surgeon,
            location=location,
            appointment_type=kind,
            tier=tier,
            start=start,
            end=start + dt.timedelta(minutes=15),
            busy_until=start + dt.timedelta(minutes=15),
        )

    body = "Lakeside Spine: your visit at Lakeview Clinic is booked. Reply YES to confirm. Reply STOP to opt out."

    def confirmations(numbers: range) -> list[int]:
        """Visits and their confirmations, committed; the rows' ids, to be enqueued."""
        appointments = Appointment.objects.bulk_create(visit(n) for n in numbers)
        batch = Message.objects.bulk_create(
            Message(
                patient_id=a.patient_id,
                appointment=a,
                kind=MessageKind.CONFIRMATION,
                dedupe_key=f"bench:{a.pk}",
                to=str(patients[n].phone),
                body=body,
                timezone=location.timezone,
                due_at=timezone.now(),
            )
            for n, a in zip(numbers, appointments, strict=True)
        )
        return [m.pk for m in batch]

    # The batch: 10,000 visits and their confirmations, committed, then enqueued.
    batch_ids = confirmations(range(MESSAGES))
    slow_ids = confirmations(range(MESSAGES, MESSAGES + SLOW_MESSAGES))

    redis = start_redis()
    worker: subprocess.Popen[bytes] | None = None
    try:
        tasks.messages_enqueue(batch_ids)
        worker = start_worker()
        assert wait_until(lambda: len(FAKE.received) >= 1, timeout=60, interval=0.01), "nothing arrived"
        cpu_start, sent_start = cpu_seconds(worker.pid), len(FAKE.received)
        assert wait_until(lambda: len(FAKE.received) >= MESSAGES, timeout=600, interval=0.05), (
            f"only {len(FAKE.received)} of {MESSAGES} arrived"
        )
        worker_cpu_ms = (cpu_seconds(worker.pid) - cpu_start) * 1000 / (MESSAGES - sent_start)
        time.sleep(1)  # anything more (a duplicate) would arrive now
        received = list(FAKE.received)
        stamps = sorted(sms.received_at for sms in received)
        batch_seconds = stamps[-1] - stamps[0]

        # The same with a Twilio that takes its time answering each send.
        FAKE.reset()
        FAKE.latency = TWILIO_LATENCY
        tasks.messages_enqueue(slow_ids)
        assert wait_until(lambda: len(FAKE.received) >= SLOW_MESSAGES, timeout=600, interval=0.05), (
            f"only {len(FAKE.received)} of {SLOW_MESSAGES} arrived with a slow Twilio"
        )
        time.sleep(max(1.0, 2 * TWILIO_LATENCY))
        slow_received = list(FAKE.received)
        slow_stamps = sorted(sms.received_at for sms in slow_received)
        slow_seconds = slow_stamps[-1] - slow_stamps[0]
        FAKE.latency = 0.0

        # Latency: one booking per transaction, with its event, at a steady pace: the commit hands
        # the event to the relay, the worker writes the texts and sends the confirmation.
        committed: dict[int, float] = {}  # appointment id: when its transaction committed
        event_seconds: list[float] = []
        event_queries = 0
        FAKE.reset()
        for n in range(MESSAGES + SLOW_MESSAGES, total):
            with transaction.atomic():
                appointment = visit(n)
                appointment.save()
                if (
                    n == MESSAGES + SLOW_MESSAGES
                ):  # the first: its queries counted (which slows it), not timed
                    with CaptureQueriesContext(connection) as queries:
                        event_record(kind=VisitEventKind.BOOKED, appointment_id=appointment.pk)
                    event_queries = len(queries.captured_queries)
                else:
                    started = time.perf_counter()
                    event_record(kind=VisitEventKind.BOOKED, appointment_id=appointment.pk)
                    event_seconds.append(time.perf_counter() - started)
                transaction.on_commit(lambda pk=appointment.pk: committed.__setitem__(pk, time.time()))
            time.sleep(1 / LATENCY_PACE_PER_SECOND)
        assert wait_until(lambda: len(FAKE.received) >= LATENCY_BOOKINGS, timeout=60), "latency texts missing"
        time.sleep(1)
        latency_received = list(FAKE.received)
    finally:
        if worker is not None:
            stop(worker)
        stop(redis)
        FAKE.stop()

    visit_of = dict(
        Message.objects.filter(appointment_id__in=committed, kind=MessageKind.CONFIRMATION).values_list(
            "id", "appointment_id"
        )
    )
    latencies = sorted(
        (sms.received_at - committed[visit_of[message_id(sms.status_callback)]]) * 1000
        for sms in latency_received
    )
    counts = Counter(message_id(sms.status_callback) for sms in received + slow_received + latency_received)
    expected = set(batch_ids) | set(slow_ids) | set(visit_of)
    print(
        json.dumps(
            {
                "bench": "sms",
                "messages": MESSAGES,
                "worker_processes": 1,
                "worker_threads": THREADS,
                "messages_per_second": round(MESSAGES / batch_seconds, 1),
                "batch_seconds": round(batch_seconds, 2),
                # The same worker with the fake answering each send after TWILIO_LATENCY.
                "twilio_latency_ms": round(TWILIO_LATENCY * 1000),
                "messages_per_second_slow_twilio": round(SLOW_MESSAGES / slow_seconds, 1),
                # CPU the worker spent per text: the rate one free core would allow is 1000 / this.
                "worker_cpu_ms_per_message": round(worker_cpu_ms, 2),
                "latency_ms_median": round(statistics.median(latencies), 1),
                "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                "latency_samples": len(latencies),
                # What booking adds to its transaction for the texts: the event row.
                "booking_event_ms_median": round(statistics.median(event_seconds) * 1000, 2),
                "booking_event_queries": event_queries,
                "duplicates": sum(count - 1 for count in counts.values() if count > 1),
                "losses": len(expected - set(counts)),
                "rows_not_queued": Message.objects.filter(id__in=expected)
                .exclude(status=MessageStatus.QUEUED)
                .count(),
                # Other work on the machine slows the worker: the figures mean little without it.
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
