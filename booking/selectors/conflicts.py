"""Visits that no longer fit availability: closures, time off, hours, blocks, deactivation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.utils import timezone as django_timezone

from booking.availability import conflict_reason
from booking.models import ACTIVE_STATUSES, Appointment, VisitConflict
from booking.selectors.calendar import calendar_for_conflicts
from locations.visits import CONFLICT_INACTIVE


@dataclass(frozen=True)
class AppointmentConflict:
    """A future active visit that falls outside availability, and why (locations.visits.CONFLICT_*)."""

    appointment: Appointment
    reason: str


def appointment_conflicts(
    *,
    location_id: int | None = None,
    surgeon_id: int | None = None,
    appointment_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
) -> list[AppointmentConflict]:
    """Future active visits that no longer fit: in a closure or the surgeon's time off, outside
    the location's hours or the surgeon's blocks there. Other visits, notice, the grid and tier
    reservations are ignored. The visit itself ([start, end)) must fit; its buffer need not.
    Six queries whatever the number of visits (the last loads the conflicting visits)."""
    now = django_timezone.now() if now is None else now
    query = Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__gte=now)
    if location_id is not None:
        query = query.filter(location_id=location_id)
    if surgeon_id is not None:
        query = query.filter(surgeon_id=surgeon_id)
    if appointment_ids is not None:
        query = query.filter(id__in=appointment_ids)
    # Plain rows, not models: a practice has tens of thousands of future visits and few conflicts,
    # whose models are loaded at the end.
    visits = list(
        query.order_by("start", "id").values_list(
            "id",
            "surgeon_id",
            "location_id",
            "start",
            "end",
            "surgeon__is_active",
            "location__is_active",
            "location__timezone",
        )
    )
    if not visits:
        return []
    calendar = calendar_for_conflicts(
        start=min(visit[3] for visit in visits),
        end=max(visit[4] for visit in visits),
        surgeon_ids={visit[1] for visit in visits},
        location_ids={visit[2] for visit in visits},
        timezones={visit[2]: visit[7] for visit in visits},
    )
    reasons: dict[int, str] = {}
    for visit_id, visit_surgeon, visit_location, start, end, surgeon_active, location_active, _ in visits:
        # Deactivating is what a refused delete asks for: the visits left behind must show up.
        if not (surgeon_active and location_active):
            reasons[visit_id] = CONFLICT_INACTIVE
            continue
        reason = conflict_reason(
            calendar, surgeon_id=visit_surgeon, location_id=visit_location, start=start, end=end
        )
        if reason is not None:
            reasons[visit_id] = reason
    if not reasons:
        return []
    # A visit cancelled or deleted between the two reads has nothing left to conflict.
    appointments = (
        Appointment.objects.filter(status__in=ACTIVE_STATUSES)
        .select_related("location")
        .in_bulk(list(reasons))
    )
    # In the visits' order (start, id).
    return [
        AppointmentConflict(appointment=appointments[visit_id], reason=reason)
        for visit_id, reason in reasons.items()
        if visit_id in appointments
    ]


def visit_conflicts_kept(
    *, location_id: int | None = None, surgeon_id: int | None = None, now: dt.datetime | None = None
) -> list[AppointmentConflict]:
    """`appointment_conflicts` read from the kept rows (PostgreSQL): one query, however many
    visits. Call `booking.services.visit_conflicts_refresh` first, in the same request."""
    now = django_timezone.now() if now is None else now
    rows = VisitConflict.objects.filter(
        appointment__status__in=ACTIVE_STATUSES, appointment__start__gte=now
    ).select_related("appointment__location")
    if location_id is not None:
        rows = rows.filter(appointment__location_id=location_id)
    if surgeon_id is not None:
        rows = rows.filter(appointment__surgeon_id=surgeon_id)
    return [
        AppointmentConflict(appointment=row.appointment, reason=row.reason)
        for row in rows.order_by("appointment__start", "appointment_id")
    ]


def future_appointments_exist(
    *, location_id: int | None = None, surgeon_id: int | None = None, now: dt.datetime | None = None
) -> bool:
    """Whether an active (booked, confirmed, ...) visit at the location, of the surgeon, has yet
    to end. Locations asks it (through `locations.visits`) before deleting either."""
    appointments = Appointment.objects.filter(
        status__in=ACTIVE_STATUSES, end__gt=now or django_timezone.now()
    )
    if location_id is not None:
        appointments = appointments.filter(location_id=location_id)
    if surgeon_id is not None:
        appointments = appointments.filter(surgeon_id=surgeon_id)
    return appointments.exists()
