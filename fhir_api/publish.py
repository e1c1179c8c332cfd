"""SMART Scheduling Links: GET /fhir/R4/$bulk-publish (a manifest) and its three NDJSON files of
Locations, Schedules and free Slots for the next FHIR_PUBLISH_DAYS days. Public: no patient data.

Only bookable, non-reserved standard slots are published: slot search for the lowest tier, of one
appointment type (FHIR_PUBLISH_APPOINTMENT_TYPE, else the shortest active one), each slot with
the practice's booking-phone extension. A build is cached until something it reads changes: its
ETag is a fingerprint of the latest history row of every table the slots depend on, the set of
unexpired holds, the settings, and the time rounded down to the slot grid (slots pass, and
min-notice rules move, as time goes by). `If-None-Match` with it answers 304.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from booking.models import Appointment, Hold
from fhir_api import resources
from fhir_api.http import FhirView
from fhir_api.selectors import fhir_slots, publish_appointment_type, schedules
from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from practice.models import AppointmentType, UrgencyTier

BOOKING_PHONE_EXTENSION = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone"
NDJSON = "application/fhir+ndjson"
FILES = {"Location": "locations.ndjson", "Schedule": "schedules.ndjson", "Slot": "slots.ndjson"}
# Tables whose every change leaves a history row (django-simple-history), slots' inputs all.
_TRACKED = (
    Location,
    OpeningHours,
    Closure,
    Surgeon,
    Block,
    TimeOff,
    AppointmentType,
    UrgencyTier,
    Appointment,
)


def publish_fingerprint(*, now: dt.datetime) -> str:
    """A short hash that changes whenever the published files would: one query."""
    tables = [model.history.model._meta.db_table for model in _TRACKED]
    latest = ", ".join(f"(SELECT MAX(history_date) FROM {table})" for table in tables)  # noqa: S608 (table names only)
    hold = Hold._meta.db_table
    sql = (
        f"SELECT {latest}, (SELECT COUNT(*) FROM {hold} WHERE expires_at > %s),"  # noqa: S608 (table names only)
        f" (SELECT MAX(id) FROM {hold} WHERE expires_at > %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now])
        row = cursor.fetchone()
    grid = settings.SLOT_GRID_MINUTES * 60
    tick = int(now.timestamp()) // grid
    stamp = json.dumps(
        [
            [str(value) for value in row],
            tick,
            settings.FHIR_PUBLISH_DAYS,
            settings.FHIR_BOOKING_PHONE,
            settings.FHIR_PUBLISH_APPOINTMENT_TYPE,
        ]
    )
    return hashlib.sha256(stamp.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Published:
    transaction_time: str
    files: dict[str, str]  # resource type -> NDJSON text


def _ndjson(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)


def publish_build(*, now: dt.datetime) -> Published:
    """The three files as of `now`."""
    published = schedules()
    appointment_type = publish_appointment_type()
    slots = []
    if appointment_type is not None and published:
        slots = fhir_slots(
            appointment_type=appointment_type,
            tier=None,
            start=now,
            end=now + dt.timedelta(days=settings.FHIR_PUBLISH_DAYS),
            surgeon_ids=None,
            location_ids=None,
        )
    extensions = (
        [{"url": BOOKING_PHONE_EXTENSION, "valueString": settings.FHIR_BOOKING_PHONE}]
        if settings.FHIR_BOOKING_PHONE
        else None
    )
    locations = {schedule.location.pk: schedule.location for schedule in published}
    pairs = {(schedule.surgeon.pk, schedule.location.pk) for schedule in published}
    return Published(
        transaction_time=resources.instant(now),
        files={
            "Location": _ndjson([resources.location_resource(location) for location in locations.values()]),
            "Schedule": _ndjson([resources.schedule_resource(s.surgeon, s.location) for s in published]),
            "Slot": _ndjson(
                [
                    resources.slot_resource(slot, appointment_type, extensions)  # type: ignore[arg-type]
                    for slot in slots
                    if slot.reserved_for_tier is None and (slot.surgeon_id, slot.location_id) in pairs
                ]
            ),
        },
    )


def published(*, now: dt.datetime) -> tuple[str, Published]:
    """The ETag and the files: from the cache while nothing changed, else built and cached."""
    etag = publish_fingerprint(now=now)
    key = f"fhir-publish:{etag}"
    built = cache.get(key)
    if built is None:
        built = publish_build(now=now)
        cache.set(key, built, timeout=settings.SLOT_GRID_MINUTES * 60)
    return f'"{etag}"', built


def _not_modified(request: Request, etag: str) -> bool:
    wanted = request.headers.get("If-None-Match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in wanted.split(",")) or wanted.strip() == "*"


class _PublicView(FhirView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []


@extend_schema(
    summary="SMART Scheduling Links manifest (public): Location, Schedule and Slot NDJSON files",
    description="ETag / If-None-Match (304). Free, bookable standard slots for the next FHIR_PUBLISH_DAYS days.",
    responses={
        (200, "application/json"): OpenApiResponse(response=OpenApiTypes.OBJECT, description="The manifest."),
        304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
    },
    tags=["fhir"],
    auth=[],
)
class BulkPublishApi(_PublicView):
    operation_name = "fhir_bulk_publish_manifest"

    def get(self, request: Request) -> Response | HttpResponse:
        etag, built = published(now=timezone.now())
        if _not_modified(request, etag):
            return HttpResponse(status=304, headers={"ETag": etag})
        base = request.build_absolute_uri("/fhir/R4/$bulk-publish")
        manifest = {
            "transactionTime": built.transaction_time,
            "request": base,
            "output": [{"type": kind, "url": f"{base}/{name}"} for kind, name in FILES.items()],
            "error": [],
        }
        return HttpResponse(json.dumps(manifest), content_type="application/json", headers={"ETag": etag})


@extend_schema(
    summary="A SMART Scheduling Links NDJSON file (public): locations, schedules or slots",
    responses={
        (200, NDJSON): OpenApiResponse(response=OpenApiTypes.STR, description="One FHIR resource per line."),
        304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
    },
    tags=["fhir"],
    auth=[],
)
class BulkPublishFileApi(_PublicView):
    operation_name = "fhir_bulk_publish_file"

    def get(self, request: Request, name: str) -> HttpResponse:
        kinds = {file: kind for kind, file in FILES.items()}
        if name not in kinds:
            raise NotFound()
        etag, built = published(now=timezone.now())
        if _not_modified(request, etag):
            return HttpResponse(status=304, headers={"ETag": etag})
        return HttpResponse(built.files[kinds[name]], content_type=NDJSON, headers={"ETag": etag})
