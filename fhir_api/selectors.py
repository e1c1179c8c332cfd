"""What the FHIR views read: schedules (a surgeon at a location, from the blocks), slots (from the
slot engine, as /api/v1/slots/ computes them), visits and holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from booking.availability import Slot
from booking.models import Appointment, Hold
from booking.selectors import slots_free
from locations.models import Block, Location, Surgeon
from practice.models import AppointmentType, UrgencyTier


@dataclass(frozen=True)
class Schedule:
    surgeon: Surgeon
    location: Location


def schedules(
    *,
    surgeon_ids: Collection[int] | None = None,
    location_ids: Collection[int] | None = None,
    today: dt.date | None = None,
) -> list[Schedule]:
    """Each active surgeon at each active location where a block of theirs is current or to come,
    ordered by surgeon and location: two queries."""
    today = today or timezone.localdate()
    blocks = Block.objects.filter(surgeon__is_active=True, location__is_active=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
    if surgeon_ids is not None:
        blocks = blocks.filter(surgeon_id__in=surgeon_ids)
    if location_ids is not None:
        blocks = blocks.filter(location_id__in=location_ids)
    pairs = sorted(set(blocks.order_by().values_list("surgeon_id", "location_id")))
    surgeons = Surgeon.objects.in_bulk({surgeon for surgeon, _ in pairs})
    locations = Location.objects.in_bulk({location for _, location in pairs})
    return [Schedule(surgeons[surgeon], locations[location]) for surgeon, location in pairs]


def fhir_slots(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    start: dt.datetime,
    end: dt.datetime,
    surgeon_ids: Collection[int] | None,
    location_ids: Collection[int] | None,
    pairs: Collection[tuple[int, int]] | None = None,
    location_dates: tuple[dt.date, dt.date] | None = None,
) -> list[Slot]:
    """Free slots as /api/v1/slots/ finds them (the same selector); `pairs` keeps only those
    (surgeon, location) schedules."""
    found = slots_free(
        appointment_type=appointment_type,
        tier=tier,
        start=start,
        end=end,
        surgeon_ids=surgeon_ids,
        location_ids=location_ids,
        location_dates=location_dates,
    )
    if pairs is not None:
        found = [slot for slot in found if (slot.surgeon_id, slot.location_id) in pairs]
    return found


def appointments_for_fhir() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("patient", "surgeon", "location", "appointment_type", "tier")


def holds_for_fhir(*, now: dt.datetime | None = None) -> QuerySet[Hold]:
    """Unexpired holds, with what their resource reads."""
    return Hold.objects.filter(expires_at__gt=now or timezone.now()).select_related(
        "patient", "surgeon", "location", "appointment_type", "tier"
    )


def publish_appointment_type() -> AppointmentType | None:
    """The practice's default type for FHIR: the one SMART Scheduling Links publishes and a Slot
    search without `appointment-type` uses (FHIR_PUBLISH_APPOINTMENT_TYPE, else the shortest
    active type)."""
    types = AppointmentType.objects.filter(is_active=True)
    if settings.FHIR_PUBLISH_APPOINTMENT_TYPE:
        return types.filter(code=settings.FHIR_PUBLISH_APPOINTMENT_TYPE).first()
    return types.order_by("duration_minutes", "code").first()
