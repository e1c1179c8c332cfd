"""A surgeon's time off: conferences, surgery days, leave."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from locations.models import Surgeon, TimeOff
from locations.services.errors import InvalidInterval
from practice.errors import InvalidInput


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
