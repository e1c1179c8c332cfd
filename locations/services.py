"""Writes for locations, their hours and closures, and surgeons' blocks and time off.

The validators (`*_errors`, `block_overlapping`) are pure or read-only so the Django admin's forms
call the very same rules the API does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import holidays as holidays_lib
from django.db import transaction

from locations.models import Block, Closure, Location, OpeningHours, TimeOff, timezone_error
from practice.errors import InvalidInput
from practice.models import Surgeon, UrgencyTier
from practice.services import HasFutureAppointments, future_appointments_exist, instance_delete, model_update


class InvalidTimezone(InvalidInput):
    code = "invalid_timezone"
    default_message = "Not an IANA time zone."


class InvalidInterval(InvalidInput):
    code = "invalid_interval"
    default_message = "An interval must end after it starts."


class HoursOverlap(InvalidInput):
    code = "hours_overlap"
    default_message = "Two opening intervals of one day overlap."


class BlockOverlap(InvalidInput):
    code = "block_overlap"
    default_message = "The surgeon already works at that time."


# --- Pure validators (shared with the admin) -------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """One opening interval on a weekday, in the location's wall-clock time."""

    weekday: int
    opens: dt.time
    closes: dt.time


def hours_errors(intervals: Sequence[Interval]) -> list[tuple[int, str, str]]:
    """Each broken rule as (index of the interval, field, message); empty when the week is valid."""
    errors: list[tuple[int, str, str]] = []
    for index, interval in enumerate(intervals):
        if not 0 <= interval.weekday <= 6:
            errors.append((index, "weekday", "Use 0 (Monday) to 6 (Sunday)."))
        if interval.closes <= interval.opens:
            errors.append((index, "closes", "Closing time must be after opening time."))
    if errors:
        return errors
    ordered = sorted(enumerate(intervals), key=lambda pair: (pair[1].weekday, pair[1].opens))
    # The interval of the day that closes latest so far: any later one opening before it overlaps.
    latest: Interval | None = None
    for index, interval in ordered:
        if latest is not None and latest.weekday == interval.weekday and interval.opens < latest.closes:
            message = f"Overlaps {latest.opens:%H:%M}-{latest.closes:%H:%M} on the same day."
            errors.append((index, "opens", message))
        if latest is None or latest.weekday != interval.weekday or interval.closes > latest.closes:
            latest = interval
    return errors


def hours_validate(intervals: Sequence[Interval]) -> None:
    errors = hours_errors(intervals)
    if not errors:
        return
    fields: dict[str, list[str]] = {}
    for index, field, message in errors:
        fields.setdefault(f"{index}.{field}", []).append(message)
    overlap = any(field == "opens" for _, field, _ in errors)
    error_class = HoursOverlap if overlap else InvalidInterval
    raise error_class(errors[0][2], fields=fields)


def closure_errors(
    *, start_date: dt.date, end_date: dt.date, start_time: dt.time | None, end_time: dt.time | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if end_date < start_date:
        errors["end_date"] = "The closure must not end before it starts."
    if (start_time is None) != (end_time is None):
        field = "end_time" if end_time is None else "start_time"
        errors[field] = "Give both start and end times for part of a day, or neither for whole days."
    elif start_time is not None and end_time is not None and end_time <= start_time:
        errors["end_time"] = "End time must be after start time."
    return errors


@dataclass(frozen=True)
class BlockTimes:
    weekday: int
    start: dt.time
    end: dt.time
    valid_from: dt.date
    valid_until: dt.date | None

    def overlaps(self, other: BlockTimes) -> bool:
        """Same weekday, overlapping hours and overlapping validity: the surgeon can't be at both."""
        if self.weekday != other.weekday:
            return False
        if not (self.start < other.end and other.start < self.end):
            return False
        starts_before_other_ends = other.valid_until is None or self.valid_from <= other.valid_until
        other_starts_before_self_ends = self.valid_until is None or other.valid_from <= self.valid_until
        return starts_before_other_ends and other_starts_before_self_ends


def block_times(block: Block) -> BlockTimes:
    return BlockTimes(block.weekday, block.start, block.end, block.valid_from, block.valid_until)


def block_errors(times: BlockTimes) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 0 <= times.weekday <= 6:
        errors["weekday"] = "Use 0 (Monday) to 6 (Sunday)."
    if times.end <= times.start:
        errors["end"] = "The block must end after it starts."
    if times.valid_until is not None and times.valid_until < times.valid_from:
        errors["valid_until"] = "Valid until must not be before valid from."
    return errors


def block_overlap_message(other: Block) -> str:
    return (
        f"The surgeon already works {other.get_weekday_display()} "
        f"{other.start:%H:%M}-{other.end:%H:%M} at {other.location} in overlapping dates."
    )


def block_overlapping(*, surgeon_id: int, times: BlockTimes, exclude_id: int | None = None) -> Block | None:
    """The surgeon's stored block this one would overlap, at any location, or None."""
    candidates = Block.objects.filter(
        surgeon_id=surgeon_id, weekday=times.weekday, start__lt=times.end, end__gt=times.start
    ).select_related("location")
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    return next((block for block in candidates if block_times(block).overlaps(times)), None)


def _raise_field_errors(errors: dict[str, str], error_class: type[InvalidInput] = InvalidInterval) -> None:
    if errors:
        raise error_class(next(iter(errors.values())), fields={key: [value] for key, value in errors.items()})


# --- Locations --------------------------------------------------------------------------------

LOCATION_FIELDS = ("name", "address", "phone", "timezone", "is_active")


def _timezone_validate(value: str) -> None:
    if (message := timezone_error(value)) is not None:
        raise InvalidTimezone.for_field("timezone", message)


@transaction.atomic
def location_create(
    *, name: str, timezone: str, address: str = "", phone: Any = "", is_active: bool = True
) -> Location:
    _timezone_validate(timezone)
    return Location.objects.create(
        name=name, address=address, phone=phone, timezone=timezone, is_active=is_active
    )


@transaction.atomic
def location_update(*, location: Location, data: dict[str, Any]) -> Location:
    if "timezone" in data:
        _timezone_validate(data["timezone"])
    return model_update(instance=location, data=data, fields=LOCATION_FIELDS)


@transaction.atomic
def location_delete(*, location: Location) -> None:
    """Refused while appointments are still to come there. Holds SELECT FOR UPDATE on the location."""
    location = Location.objects.select_for_update().get(pk=location.pk)
    if future_appointments_exist(location=location):
        raise HasFutureAppointments("This location has appointments still to come; deactivate it instead.")
    instance_delete(instance=location, what="location")


@transaction.atomic
def location_hours_replace(*, location: Location, intervals: Sequence[Interval]) -> list[OpeningHours]:
    """Replace the whole week at once: one bad interval and nothing changes.

    Holds SELECT FOR UPDATE on the location, so two replacements run one after the other. Only
    intervals that change are deleted or created, one by one (not in bulk), so each change, and
    nothing else, is in the history.
    """
    hours_validate(intervals)
    Location.objects.select_for_update().get(pk=location.pk)
    wanted = set(intervals)
    kept: set[Interval] = set()
    for row in list(location.hours.all()):
        interval = Interval(row.weekday, row.opens, row.closes)
        if interval in wanted and interval not in kept:
            kept.add(interval)  # unchanged: left alone, so the history shows only real changes
        else:
            row.delete()
    for interval in sorted(wanted - kept, key=lambda i: (i.weekday, i.opens)):
        OpeningHours.objects.create(
            location=location, weekday=interval.weekday, opens=interval.opens, closes=interval.closes
        )
    return list(location.hours.order_by("weekday", "opens"))


@transaction.atomic
def closure_create(
    *,
    location: Location,
    start_date: dt.date,
    end_date: dt.date,
    reason: str,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
) -> Closure:
    _raise_field_errors(
        closure_errors(start_date=start_date, end_date=end_date, start_time=start_time, end_time=end_time)
    )
    if not reason.strip():
        raise InvalidInput.for_field("reason", "Say why the location is closed.")
    return Closure.objects.create(
        location=location,
        start_date=start_date,
        end_date=end_date,
        start_time=start_time,
        end_time=end_time,
        reason=reason.strip(),
    )


def closure_delete(*, closure: Closure) -> None:
    closure.delete()


def closures_import_holidays(
    *, country: str, year: int, locations: Iterable[Location], subdiv: str | None = None
) -> list[Closure]:
    """Whole-day closures for the public holidays of `country` (and `subdiv`) in `year`.

    Idempotent: a date a location already has a whole-day closure for is left alone.
    """
    try:
        calendar = holidays_lib.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError as error:
        field = "subdiv" if subdiv and country in holidays_lib.list_supported_countries() else "country"
        raise InvalidInput.for_field(field, str(error)) from error
    created: list[Closure] = []
    with transaction.atomic():
        for location in locations:
            Location.objects.select_for_update().get(pk=location.pk)
            for day, name in sorted(calendar.items()):
                already = location.closures.filter(
                    start_date__lte=day, end_date__gte=day, start_time__isnull=True
                ).exists()
                if not already:
                    created.append(
                        Closure.objects.create(
                            location=location, start_date=day, end_date=day, reason=name[:200]
                        )
                    )
    return created


# --- Surgeons' blocks and time off --------------------------------------------------------------

BLOCK_FIELDS = (
    "location",
    "weekday",
    "start",
    "end",
    "valid_from",
    "valid_until",
    "reserved_for_tier",
    "release_hours_before",
)


def _block_validate(
    *, surgeon: Surgeon, block: Block, exclude_id: int | None, location_changed: bool
) -> None:
    """Call while holding SELECT FOR UPDATE on the surgeon, so two writes can't both pass.

    A block may not be put at an inactive location, but one already there may still be changed
    (ended, shortened) after the location is deactivated.
    """
    times = block_times(block)
    _raise_field_errors(block_errors(times))
    if location_changed and not block.location.is_active:
        raise InvalidInput.for_field("location", "This location is inactive.")
    other = block_overlapping(surgeon_id=surgeon.pk, times=times, exclude_id=exclude_id)
    if other is not None:
        message = block_overlap_message(other)
        raise BlockOverlap(message, fields={"start": [message], "end": [message]}, extra={"block": other.pk})


@transaction.atomic
def block_create(
    *,
    surgeon: Surgeon,
    location: Location,
    weekday: int,
    start: dt.time,
    end: dt.time,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    reserved_for_tier: UrgencyTier | None = None,
    release_hours_before: int = 48,
) -> Block:
    """Add a weekly block; refused if the surgeon works elsewhere (or here) at an overlapping time."""
    surgeon = Surgeon.objects.select_for_update().get(pk=surgeon.pk)
    block = Block(
        surgeon=surgeon,
        location=location,
        weekday=weekday,
        start=start,
        end=end,
        valid_from=valid_from,
        valid_until=valid_until,
        reserved_for_tier=reserved_for_tier,
        release_hours_before=release_hours_before,
    )
    _block_validate(surgeon=surgeon, block=block, exclude_id=None, location_changed=True)
    block.save()
    return block


@transaction.atomic
def block_update(*, block: Block, data: dict[str, Any]) -> Block:
    surgeon = Surgeon.objects.select_for_update().get(pk=block.surgeon_id)
    candidate = Block.objects.get(pk=block.pk)
    for field in BLOCK_FIELDS:
        if field in data:
            setattr(candidate, field, data[field])
    location_changed = "location" in data and data["location"].pk != block.location_id
    _block_validate(surgeon=surgeon, block=candidate, exclude_id=block.pk, location_changed=location_changed)
    return model_update(instance=block, data=data, fields=BLOCK_FIELDS)


def block_delete(*, block: Block) -> None:
    block.delete()


@transaction.atomic
def time_off_create(*, surgeon: Surgeon, start: dt.datetime, end: dt.datetime, reason: str) -> TimeOff:
    for field, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise InvalidInput.for_field(field, "Give an instant with its UTC offset.")
    if end <= start:
        raise InvalidInterval.for_field("end", "Time off must end after it starts.")
    if not reason.strip():
        raise InvalidInput.for_field("reason", "Say why (conference, surgery day, leave).")
    return TimeOff.objects.create(surgeon=surgeon, start=start, end=end, reason=reason.strip())


def time_off_delete(*, time_off: TimeOff) -> None:
    time_off.delete()
