"""What the PHI audit costs a request on PostgreSQL; prints one JSON line.

- the audit's own cost per request, record + flush (building the rows, one multi-row INSERT,
  its commit), median and p95 wall ms: for a list returning 20 patients (20 rows) and for a
  single read (1 row); the goal is under 1 ms;
- the database's floor: one row inserted and committed with nothing else, median wall ms;
- for context, the whole request (GET /api/v1/patients/?limit=20 and GET /api/v1/patients/{id}/
  in-process through Django's test client, audit included), median wall ms.

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_audit),
dropped and recreated at the start of each run and dropped at the end.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_audit")
os.environ.update(
    {
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "SECRET_KEY": "bench-only-not-a-secret",
        "DEBUG": "false",
        # Plain http to 127.0.0.1: production redirects it to https.
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SMS_BACKEND": "console",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "practice.settings",
    }
)

ROUNDS = 500
WARM_UP = 50
LIST_SIZE = 20


def _admin(sql: str) -> None:
    import psycopg

    parsed = urlparse(DATABASE_URL)
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(sql.format(name=parsed.path.lstrip("/")))


def _ms(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings) * 1000, timings[int(len(timings) * 0.95)] * 1000


def bench_audit(request: Any, patients: list[Any]) -> tuple[float, float]:
    """Median and p95 ms of recording `patients` as one request's reads and flushing them."""
    from practice.audit import audit_flush, audit_record

    timings = []
    for round_ in range(WARM_UP + ROUNDS):
        http = request._request
        http.__dict__.pop("audit_request_id", None)
        started = time.perf_counter()
        audit_record(
            request, action="list", object_type="patient", objects=patients, patient_id_of=lambda p: p.pk
        )
        audit_flush(http)
        if round_ >= WARM_UP:
            timings.append(time.perf_counter() - started)
    return _ms(timings)


def bench_floor() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, at timestamptz)")
    raw = connection.connection
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        raw.execute("INSERT INTO bench_floor (at) VALUES (now())")
        raw.commit()
        timings.append(time.perf_counter() - started)
    return _ms(timings)[0]


def bench_request(client: Any, path: str) -> float:
    timings = []
    for round_ in range(WARM_UP + ROUNDS // 5):
        started = time.perf_counter()
        response = client.get(path)
        if round_ >= WARM_UP:
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
    return _ms(timings)[0]


def main() -> None:
    _admin('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin('CREATE DATABASE "{name}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from rest_framework.request import Request
        from rest_framework.test import APIClient, APIRequestFactory

        from booking.models import Patient
        from practice.models import AuditEntry
        from practice.services import user_create_or_update

        call_command("migrate", verbosity=0)
        user = user_create_or_update(username="bench-scheduler", role="scheduler", password="bench")  # noqa: S106 - a throwaway database
        patients = [
            Patient.objects.create(
                first_name="Bench",
                last_name=f"Patient {n}",
                date_of_birth="1970-01-01",
                phone=f"+1312555{n:04d}",
            )
            for n in range(LIST_SIZE)
        ]
        request = Request(APIRequestFactory().get("/api/v1/patients/", REMOTE_ADDR="10.0.0.1"))
        request.user = user
        list_ms, list_p95 = bench_audit(request, patients)
        read_ms, read_p95 = bench_audit(request, patients[:1])
        floor_ms = bench_floor()

        client = APIClient()
        client.force_authenticate(user)
        list_request_ms = bench_request(client, f"/api/v1/patients/?limit={LIST_SIZE}")
        read_request_ms = bench_request(client, f"/api/v1/patients/{patients[0].pk}/")
        rows = AuditEntry.objects.count()
        connection.close()
    finally:
        _admin('DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        json.dumps(
            {
                "bench": "audit",
                "database": "postgresql",
                "rounds": ROUNDS,
                "list_patients": LIST_SIZE,
                "audit_ms_per_list_request_median": round(list_ms, 3),
                "audit_ms_per_list_request_p95": round(list_p95, 3),
                "audit_ms_per_read_request_median": round(read_ms, 3),
                "audit_ms_per_read_request_p95": round(read_p95, 3),
                "goal_ms": 1,
                "database_floor_ms_insert_commit_median": round(floor_ms, 3),
                "request_ms_list_median": round(list_request_ms, 2),
                "request_ms_read_median": round(read_request_ms, 2),
                "audit_rows_written": rows,
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
