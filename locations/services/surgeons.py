"""Creating, changing and deleting surgeons (their blocks and time off are `blocks`, `time_off`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from locations import visits
from locations.models import Surgeon
from locations.services.errors import HasFutureAppointments
from practice.errors import InvalidInput
from practice.services import instance_delete, model_update

SURGEON_FIELDS = ("first_name", "last_name", "display_name", "specialties", "is_active")


def specialties_validate(specialties: Any) -> list[str]:
    if not isinstance(specialties, list) or not all(isinstance(item, str) for item in specialties):
        raise InvalidInput.for_field("specialties", "Give a list of strings.")
    return [item.strip() for item in specialties if item.strip()]


def _display_name_default(first_name: str, last_name: str) -> str:
    return f"Dr. {first_name} {last_name}"


@transaction.atomic
def surgeon_create(
    *,
    first_name: str,
    last_name: str,
    display_name: str = "",
    specialties: list[str] | None = None,
    is_active: bool = True,
) -> Surgeon:
    surgeon = Surgeon(
        first_name=first_name,
        last_name=last_name,
        display_name=display_name or _display_name_default(first_name, last_name),
        specialties=specialties_validate(specialties or []),
        is_active=is_active,
    )
    surgeon.save()
    return surgeon


@transaction.atomic
def surgeon_update(*, surgeon: Surgeon, data: dict[str, Any]) -> Surgeon:
    if "specialties" in data:
        data = {**data, "specialties": specialties_validate(data["specialties"])}
    if "display_name" in data and not data["display_name"]:
        # Blanked, as on creation: patients and schedulers still need a name to see.
        first_name = data.get("first_name", surgeon.first_name)
        last_name = data.get("last_name", surgeon.last_name)
        data = {**data, "display_name": _display_name_default(first_name, last_name)}
    return model_update(instance=surgeon, data=data, fields=SURGEON_FIELDS)


@transaction.atomic
def surgeon_delete(*, surgeon: Surgeon) -> None:
    """Refused while the surgeon has appointments to come; their blocks and time off go with them.

    Holds SELECT FOR UPDATE on the surgeon, so a booking cannot slip in between check and delete.
    """
    surgeon = Surgeon.objects.select_for_update().get(pk=surgeon.pk)
    if visits.future_visits_exist(surgeon_id=surgeon.pk):
        raise HasFutureAppointments("This surgeon has appointments still to come; deactivate instead.")
    instance_delete(instance=surgeon, what="surgeon")
