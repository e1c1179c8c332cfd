"""Creating, changing and deleting locations."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from locations import visits
from locations.models import Location, timezone_error
from locations.services.errors import HasFutureAppointments, InvalidTimezone
from practice.services import instance_delete, model_update

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
    if visits.future_visits_exist(location_id=location.pk):
        raise HasFutureAppointments("This location has appointments still to come; deactivate it instead.")
    instance_delete(instance=location, what="location")
