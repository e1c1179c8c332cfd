"""The one read of a simulation: the practice's real templates through the calendar loader."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone as django_timezone

from booking.availability import zone
from booking.selectors.calendar import calendar_for_slots
from booking.selectors.reports import access_type_default
from booking.selectors.slots import slot_rules
from booking.simulation.inputs import SimulationInputs
from booking.simulation.records import Templates, Tier
from practice.errors import InvalidInput
from practice.models import AppointmentType, UrgencyTier


def templates_load(*, inputs: SimulationInputs, now: dt.datetime | None = None) -> Templates:
    """Locations, hours, closures, blocks with their reserves, time off and booked visits over
    the simulated period, read once with the same loader slot search uses (a fixed number of
    queries), with the tiers and the simulated appointment type (default: the access report's).
    The period starts on the Monday after `inputs.start` (default today) at the practice's first
    location."""
    if inputs.appointment_type:
        appointment_type = AppointmentType.objects.filter(
            code=inputs.appointment_type, is_active=True
        ).first()
    else:
        appointment_type = access_type_default()
    if appointment_type is None:
        raise InvalidInput.for_field("appointment_type", "No such active appointment type to simulate.")
    tiers = tuple(
        Tier(code=tier.code, rank=tier.rank, max_wait_days=tier.max_wait_days)
        for tier in UrgencyTier.objects.all()
    )
    if not tiers:
        raise InvalidInput.for_field("tier_mix", "The practice has no urgency tiers.")
    now = django_timezone.now() if now is None else now
    first_day = inputs.start or now.date()
    monday = first_day + dt.timedelta(days=(7 - first_day.weekday()) % 7)
    weeks = inputs.warmup_weeks + inputs.weeks
    # Loaded generously in UTC; the zone is only known from the blocks.
    rough_start = dt.datetime.combine(monday, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    rough_end = rough_start + dt.timedelta(weeks=weeks + inputs.horizon_weeks, days=3)
    calendar = calendar_for_slots(start=rough_start, end=rough_end, surgeon_ids=None, location_ids=None)
    if not calendar.blocks:
        raise InvalidInput("No active surgeon has a block at an active location: nothing to simulate.")
    zone_name = calendar.timezones[min(calendar.timezones)]
    tz = zone(zone_name)
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    measure_start = dt.datetime.combine(
        monday + dt.timedelta(weeks=inputs.warmup_weeks), dt.time(0), tzinfo=tz
    ).astimezone(dt.UTC)
    measure_end = dt.datetime.combine(monday + dt.timedelta(weeks=weeks), dt.time(0), tzinfo=tz).astimezone(
        dt.UTC
    )
    rules = dataclasses.replace(slot_rules(appointment_type=appointment_type, tier=None), tier_rank=None)
    return Templates(
        calendar=calendar,
        tiers=tiers,
        rules=rules,
        start=start,
        measure_start=measure_start,
        measure_end=measure_end,
        horizon_end=measure_end + dt.timedelta(weeks=inputs.horizon_weeks),
        zone_name=zone_name,
        appointment_type=appointment_type.code,
    )
