"""A location's weekly opening hours: the rules a week must keep, and replacing the whole week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from locations.models import Location, OpeningHours
from locations.services.errors import HoursOverlap, InvalidInterval


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
