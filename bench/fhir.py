"""FHIR benchmark: seeds bench/slots.py's scenario B (10 locations, 60 surgeons, 26 weeks, 40%
booked) in its own PostgreSQL database and prints ONE JSON line of figures:

- a FHIR Slot search for one practitioner over 14 days through the HTTP API (in-process, DRF's
  test client with token authentication, as bench/slots.py), every slot on one page; goal < 30 ms;
- the SMART Scheduling Links files built from scratch (`publish_build`), goal < 2 s; and the
  manifest answered from the cache, and a 304 to If-None-Match.

Usage: `.venv/bin/python bench/fhir.py`. BENCH_FHIR_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/bench_fhir) names the database; it is dropped and re-created.
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
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_FHIR_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_fhir"
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Re-creates the database named above and sets Django up; its scenario builders are reused.
import slots  # noqa: E402
import time_machine  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402

from fhir_api.publish import publish_build  # noqa: E402
from locations.models import Surgeon  # noqa: E402
from practice.models import AppointmentType, UrgencyTier  # noqa: E402

GOAL_SLOT_SEARCH_MS, GOAL_PUBLISH_MS = 30, 2000


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    load_before = round(os.getloadavg()[0], 2)
    today = dt.datetime.now(tz=dt.UTC).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    now = slots.local(monday - dt.timedelta(days=3), dt.time(12), slots.CHICAGO)
    visit = AppointmentType.objects.create(code="bench-30", name="Bench visit", duration_minutes=30)
    urgent = UrgencyTier.objects.get(code="urgent")
    rng = random.Random(slots.SEED + 1)
    zones = ["America/Chicago", "America/New_York", "America/Denver", "America/Phoenix"]
    seeded_at = time.perf_counter()
    for index in range(10):
        slots.seed_location(
            name=f"Clinic{index}",
            zone=zones[index % len(zones)],
            surgeons=6,
            first_day=monday,
            days=26 * 7,
            visit=visit,
            rng=rng,
            urgent=urgent,
        )
    seed_seconds = round(time.perf_counter() - seeded_at, 1)
    surgeon = Surgeon.objects.order_by("id").first()
    assert surgeon is not None
    query = {
        "schedule.actor": f"Practitioner/{surgeon.pk}",
        "appointment-type": visit.code,
        "start": [f"ge{monday.isoformat()}", f"lt{(monday + dt.timedelta(days=14)).isoformat()}"],
        "_count": "500",
    }
    with time_machine.travel(now, tick=True):
        client = slots.api_client()  # its token must be fresh at the travelled-to time
        search, bundle = slots.timed(lambda: slots.get_ok(client, "/fhir/R4/Slot", query), 50)
        search_cpu = slots.cpu_median()
        build, built = slots.timed(lambda: publish_build(now=dt.datetime.now(tz=dt.UTC)), 5)
        cache.clear()
        anonymous = slots.APIClient()
        manifest = anonymous.get("/fhir/R4/$bulk-publish")
        etag = manifest["ETag"]
        cached, _ = slots.timed(lambda: anonymous.get("/fhir/R4/$bulk-publish"), 20)
        unchanged, _ = slots.timed(
            lambda: anonymous.get("/fhir/R4/$bulk-publish", HTTP_IF_NONE_MATCH=etag), 20
        )
    figures = {
        "benchmark": "fhir",
        "load_average_before": load_before,
        "database": urlsplit(os.environ["BENCH_DATABASE_URL"]).path.lstrip("/"),
        "seed_seconds": seed_seconds,
        "slot_search_one_practitioner_14_days_http_ms": {
            "median": slots.median(search),
            "p95": slots.p95(search),
            "cpu_median": search_cpu,
            "slots": bundle["total"],
            "goal": GOAL_SLOT_SEARCH_MS,
        },
        "bulk_publish_build_ms": {
            "median": slots.median(build),
            "max": round(max(build), 2),
            "slots": built.files["Slot"].count("\n"),
            "schedules": built.files["Schedule"].count("\n"),
            "goal": GOAL_PUBLISH_MS,
        },
        "bulk_publish_manifest_cached_http_ms": {"median": slots.median(cached)},
        "bulk_publish_manifest_304_http_ms": {"median": slots.median(unchanged)},
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
