"""Dates a location is shut: one by one, or a country's public holidays at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays as holidays_lib
from django.db import transaction

from locations.models import Closure, Location
from locations.services.errors import raise_field_errors
from practice.errors import InvalidInput


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
    raise_field_errors(
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
