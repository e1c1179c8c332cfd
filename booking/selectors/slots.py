"""Free slots: search over a range, the earliest ones, a one-slot check, and tier windows.

Each read loads its range through `booking.selectors.calendar` in a fixed number of queries and
hands plain data to the pure engine in `booking.availability`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone as django_timezone

from booking import availability
from booking.availability import Refusal, Slot, SlotRules, free_slots, zone
from booking.selectors.calendar import calendar_for_slots
from locations.models import Block, Location, TimeOff
from practice.models import AppointmentType, UrgencyTier

# Earliest-slot searches widen step by step (days after the search start) up to a year.
EARLIEST_STEPS_DAYS = (4, 14, 42, 126, 366)


def _now(now: dt.datetime | None) -> dt.datetime:
    return django_timezone.now() if now is None else now


def slot_rules(*, appointment_type: AppointmentType, tier: UrgencyTier | None) -> SlotRules:
    return SlotRules(
        duration=dt.timedelta(minutes=appointment_type.duration_minutes),
        buffer=dt.timedelta(minutes=appointment_type.buffer_minutes),
        grid=dt.timedelta(minutes=settings.SLOT_GRID_MINUTES),
        min_notice=dt.timedelta(hours=appointment_type.min_notice_hours),
        tier_rank=None if tier is None else tier.rank,
    )


def slots_free(
    *,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    tier: UrgencyTier | None = None,
    surgeon_ids: Iterable[int] | None = None,
    location_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
    exclude_appointment_id: int | None = None,
    location_dates: tuple[dt.date, dt.date] | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Free slots starting in [start, end) for `tier` (None: the lowest rank), ordered by start;
    with `limit`, only the first ones.

    Four queries whatever the number of surgeons, locations or days. `exclude_appointment_id`
    treats that visit as gone (a reschedule may land on or beside the time it frees).
    `location_dates` keeps only slots on those local dates at their own location.
    """
    now = _now(now)
    calendar = calendar_for_slots(
        start=start,
        end=end,
        surgeon_ids=surgeon_ids,
        location_ids=location_ids,
        exclude_appointment_id=exclude_appointment_id,
        now=now,
    )
    rules = slot_rules(appointment_type=appointment_type, tier=tier)
    return free_slots(
        calendar, rules, start=start, end=end, now=now, location_dates=location_dates, limit=limit
    )


# A page of a range search widens step by step (days after where the page starts). Not one day
# first: a search by dates starts 14 hours before the first date's UTC midnight (that date in
# UTC+14), so a first day would end before the Americas' clinics open on that date and cost a
# whole load for nothing (bench/slots.py scenario C: two loads for a first page, now one).
PAGE_STEPS_DAYS = (2, 4, 7, 14, 31)
SlotKey = tuple[dt.datetime, int, int]  # start, surgeon, location: the order slots come in


def slot_key(slot: Slot) -> SlotKey:
    return (slot.start, slot.surgeon_id, slot.location_id)


def slots_page(
    *,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    limit: int,
    after: SlotKey | None = None,
    tier: UrgencyTier | None = None,
    surgeon_ids: Iterable[int] | None = None,
    location_ids: Iterable[int] | None = None,
    location_dates: tuple[dt.date, dt.date] | None = None,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """The first `limit` of `slots_free`'s slots for [start, end) that come after the slot
    `after` (start, surgeon, location), in the same order.

    Searched in widening steps from where the page starts, each stopping at `limit` slots, so a
    page reads about a day of the calendar rather than the whole range: for 500 surgeons, a
    first page of 50 slots out of a 14-day range loads one day's visits instead of fourteen."""
    now = _now(now)
    surgeons = None if surgeon_ids is None else list(surgeon_ids)
    locations = None if location_ids is None else list(location_ids)
    cursor = start if after is None else max(start, after[0])
    steps = [cursor + dt.timedelta(days=days) for days in PAGE_STEPS_DAYS]
    found: list[Slot] = []
    for step_end in [*[step for step in steps if step < end], end]:
        if step_end <= cursor:
            continue
        wanted = limit - len(found)
        while True:
            # Slots at the page's first instant that `after` has already shown count against
            # the engine's limit: ask for more until enough are left or the step is exhausted.
            slots = slots_free(
                appointment_type=appointment_type,
                tier=tier,
                start=cursor,
                end=step_end,
                surgeon_ids=surgeons,
                location_ids=locations,
                location_dates=location_dates,
                now=now,
                limit=wanted,
            )
            fresh = slots if after is None else [slot for slot in slots if slot_key(slot) > after]
            if len(fresh) >= limit - len(found) or len(slots) < wanted:
                break
            wanted *= 2
        found += fresh[: limit - len(found)]
        if len(found) >= limit:
            break
        cursor = step_end
    return found


def slot_is_free(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    surgeon_id: int,
    location_id: int,
    start: dt.datetime,
    now: dt.datetime | None = None,
    exclude_appointment_id: int | None = None,
) -> bool:
    """Whether search would offer exactly this slot (same rules, same code path)."""
    return (
        slot_refusal(
            appointment_type=appointment_type,
            tier=tier,
            surgeon_id=surgeon_id,
            location_id=location_id,
            start=start,
            now=now,
            exclude_appointment_id=exclude_appointment_id,
        )
        is None
    )


def slot_refusal(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    surgeon_id: int,
    location_id: int,
    start: dt.datetime,
    now: dt.datetime | None = None,
    exclude_appointment_id: int | None = None,
) -> Refusal | None:
    """None when search would offer exactly this slot, else why not (`booking.availability`'s
    codes). A bookable start costs what `slots_free` over one instant costs (four queries, one
    round trip on PostgreSQL); only a refusal is explained (with a query or two more)."""
    calendar = calendar_for_slots(
        start=start,
        end=start + dt.timedelta(microseconds=1),
        surgeon_ids=[surgeon_id],
        location_ids=[location_id],
        exclude_appointment_id=exclude_appointment_id,
    )
    rules = slot_rules(appointment_type=appointment_type, tier=tier)

    def time_off() -> list[tuple[dt.datetime, dt.datetime]]:
        return list(
            TimeOff.objects.filter(
                surgeon_id=surgeon_id, start__lt=start + rules.needed, end__gt=start
            ).values_list("start", "end")
        )

    refusal = availability.slot_refusal(
        calendar,
        rules,
        surgeon_id=surgeon_id,
        location_id=location_id,
        start=start,
        now=_now(now),
        time_off=time_off,
    )
    if (
        refusal is not None
        and refusal.code == availability.REFUSAL_SURGEON_NOT_AT_LOCATION
        and Block.objects.filter(surgeon_id=surgeon_id, location_id=location_id).exists()
    ):
        # The calendar holds only blocks valid around the start: a surgeon who does work here,
        # on other dates, is outside their blocks.
        return Refusal(availability.REFUSAL_NOT_IN_BLOCK)
    return refusal


def refusal_message(
    refusal: Refusal, *, appointment_type: AppointmentType, timezone: str | None = None
) -> str:
    """The refusal in a scheduler's words; times in `timezone` (the location's)."""
    code = refusal.code
    if code == availability.REFUSAL_RESERVED_FOR_TIER and refusal.release_at is not None:
        release = refusal.release_at.astimezone(zone(timezone or "UTC"))
        return (
            f"This time is held for {refusal.reserved_tier_code} patients until "
            f"{release:%Y-%m-%d %H:%M} ({release.tzname()}); book it then, or pick a free slot."
        )
    if code == availability.REFUSAL_MIN_NOTICE:
        return (
            f"A {appointment_type.name} needs {appointment_type.min_notice_hours} hours' notice; "
            "pick a later time."
        )
    if code == availability.REFUSAL_OFF_GRID:
        return (
            f"Visits start every {settings.SLOT_GRID_MINUTES} minutes from the start of the surgeon's "
            "block; pick one of those times."
        )
    return _REFUSAL_MESSAGES.get(code, "That slot is not free.")


_REFUSAL_MESSAGES = {
    availability.REFUSAL_TAKEN: "The surgeon already has a visit at that time.",
    availability.REFUSAL_OUTSIDE_HOURS: "The clinic is not open for the whole visit at that time.",
    availability.REFUSAL_LOCATION_CLOSED: "The clinic is closed then (a holiday or closure).",
    availability.REFUSAL_SURGEON_OFF: "The surgeon is away then (time off).",
    availability.REFUSAL_NOT_IN_BLOCK: "The surgeon does not see patients at this clinic at that time.",
    availability.REFUSAL_IN_PAST: "That time has already passed.",
    availability.REFUSAL_SURGEON_NOT_AT_LOCATION: "The surgeon does not work at this clinic.",
}


def slots_earliest(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    surgeon_ids: Iterable[int] | None = None,
    location_ids: Iterable[int] | None = None,
    after: dt.datetime | None = None,
    now: dt.datetime | None = None,
    limit: int = 5,
    horizon_days: int = EARLIEST_STEPS_DAYS[-1],
    exclude_appointment_id: int | None = None,
) -> list[Slot]:
    """The earliest `limit` free slots starting at or after `after` (default now), searching a
    widening range (a few fixed-size loads at most) up to `horizon_days` after it."""
    now = _now(now)
    begin = max(after or now, now)
    surgeons = None if surgeon_ids is None else list(surgeon_ids)
    locations = None if location_ids is None else list(location_ids)
    found: list[Slot] = []
    cursor = begin
    horizon = begin + dt.timedelta(days=horizon_days)
    steps = [begin + dt.timedelta(days=days) for days in EARLIEST_STEPS_DAYS if days < horizon_days]
    for step_end in [*steps, horizon]:
        if step_end <= cursor:
            continue
        found += slots_free(
            appointment_type=appointment_type,
            tier=tier,
            start=cursor,
            end=step_end,
            surgeon_ids=surgeons,
            location_ids=locations,
            now=now,
            exclude_appointment_id=exclude_appointment_id,
            limit=limit - len(found),
        )
        if len(found) >= limit:
            break
        cursor = step_end
    return found[:limit]


def slots_next(
    *,
    appointment_type: AppointmentType,
    tier: UrgencyTier | None,
    surgeon_id: int,
    location_id: int,
    after: dt.datetime,
    limit: int = 3,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """The next free slots for one surgeon at one location, starting at or after `after`."""
    return slots_earliest(
        appointment_type=appointment_type,
        tier=tier,
        surgeon_ids=[surgeon_id],
        location_ids=[location_id],
        after=after,
        now=now,
        limit=limit,
    )


def tier_window_end(*, tier: UrgencyTier, timezone: str, now: dt.datetime) -> dt.datetime:
    """The instant a tier's window closes: the end of the local day `max_wait_days` calendar days
    after `now` in `timezone` (that is, the next local midnight), in UTC. A slot is inside the
    window when it starts before this instant."""
    tz = zone(timezone)
    last_day = now.astimezone(tz).date() + dt.timedelta(days=tier.max_wait_days)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)


@dataclass(frozen=True)
class SlotsInWindow:
    """Earliest slots judged against a tier's window: `within[i]` for `slots[i]`, each by its own
    location's window; `window_ends` is the headline window's close, in its zone."""

    slots: list[Slot]
    within: list[bool]
    window_ends: dt.datetime


def slots_in_window(
    *, tier: UrgencyTier, slots: list[Slot], location: Location | None, now: dt.datetime
) -> SlotsInWindow:
    """Judge `slots` against `tier`'s window. The headline window is the searched location's,
    else the earliest slot's location's, else (no slot at all) the latest of the active
    locations'."""
    if location is not None:
        headline = location.timezone
    elif slots:
        headline = slots[0].timezone
    else:
        candidates = (
            Location.objects.filter(is_active=True).order_by().values_list("timezone", flat=True).distinct()
        )
        headline = max(
            set(candidates) or {"UTC"}, key=lambda name: tier_window_end(tier=tier, timezone=name, now=now)
        )
    ends = {
        location_id: tier_window_end(tier=tier, timezone=name, now=now)
        for location_id, name in {slot.location_id: slot.timezone for slot in slots}.items()
    }
    return SlotsInWindow(
        slots=slots,
        within=[slot.start < ends[slot.location_id] for slot in slots],
        window_ends=tier_window_end(tier=tier, timezone=headline, now=now).astimezone(zone(headline)),
    )
