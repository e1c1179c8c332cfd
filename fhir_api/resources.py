"""Our rows as FHIR R4 resources (plain dicts, rendered as JSON).

Ids: Location, Practitioner (a surgeon), Patient and Appointment use the row's id; a hold is the
Appointment `hold-<id>` (status pending). Schedule and PractitionerRole are a surgeon at a
location: `<surgeon>-<location>`. Slots are computed, never stored; a slot's id names what
identifies it: `<surgeon>-<location>-<appointment type id>-<start, epoch seconds>`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from booking.availability import Slot, zone
from booking.models import Appointment, AppointmentStatus, Hold, Patient
from locations.models import Location, Surgeon
from practice.models import AppointmentType, UrgencyTier

FHIR_VERSION = "4.0.1"
APPOINTMENT_TYPE_SYSTEM = "urn:practice:appointment-type"
RECORD_NUMBER_SYSTEM = "urn:practice:record-number"
# Our extensions: the urgency tier of a slot search, a proposed or booked visit; a hold's expiry.
TIER_EXTENSION = "urn:practice:fhir:StructureDefinition:urgency-tier"
REFERRAL_EXTENSION = "urn:practice:fhir:StructureDefinition:referral"
HOLD_EXPIRES_EXTENSION = "urn:practice:fhir:StructureDefinition:hold-expires"
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
HOLD_PREFIX = "hold-"

# Our visit statuses as FHIR's: a confirmed visit is still `booked` in FHIR's terms.
APPOINTMENT_STATUSES = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.CONFIRMED: "booked",
    AppointmentStatus.CHECKED_IN: "arrived",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}
HOLD_STATUS = "pending"


def instant(value: dt.datetime, timezone: str = "UTC") -> str:
    """An instant in the location's own offset, to the second."""
    return value.astimezone(zone(timezone)).replace(microsecond=0).isoformat()


def pair_id(surgeon_id: int, location_id: int) -> str:
    return f"{surgeon_id}-{location_id}"


def slot_id(slot: Slot, appointment_type: AppointmentType) -> str:
    return f"{slot.surgeon_id}-{slot.location_id}-{appointment_type.pk}-{int(slot.start.timestamp())}"


def appointment_type_concept(appointment_type: AppointmentType) -> dict[str, Any]:
    return {
        "coding": [
            {
                "system": APPOINTMENT_TYPE_SYSTEM,
                "code": appointment_type.code,
                "display": appointment_type.name,
            }
        ],
        "text": appointment_type.name,
    }


def tier_extension(tier: UrgencyTier) -> dict[str, Any]:
    return {"url": TIER_EXTENSION, "valueCode": tier.code}


def location_resource(location: Location) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": str(location.pk),
        "extension": [{"url": TIMEZONE_EXTENSION, "valueCode": location.timezone}],
        "status": "active" if location.is_active else "inactive",
        "name": location.name,
        "mode": "instance",
    }
    if location.phone:
        resource["telecom"] = [{"system": "phone", "value": str(location.phone), "use": "work"}]
    if location.address:
        resource["address"] = {"text": location.address}
    return resource


def practitioner_resource(surgeon: Surgeon) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": str(surgeon.pk),
        "active": surgeon.is_active,
        "name": [{"text": surgeon.display_name, "family": surgeon.last_name, "given": [surgeon.first_name]}],
    }


def _actor(kind: str, pk: int, display: str) -> dict[str, Any]:
    return {"reference": f"{kind}/{pk}", "display": display}


def practitioner_role_resource(surgeon: Surgeon, location: Location) -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole",
        "id": pair_id(surgeon.pk, location.pk),
        "active": surgeon.is_active and location.is_active,
        "practitioner": _actor("Practitioner", surgeon.pk, surgeon.display_name),
        "location": [_actor("Location", location.pk, location.name)],
    }


def schedule_resource(surgeon: Surgeon, location: Location) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "id": pair_id(surgeon.pk, location.pk),
        "active": surgeon.is_active and location.is_active,
        "actor": [
            _actor("Practitioner", surgeon.pk, surgeon.display_name),
            _actor("Location", location.pk, location.name),
        ],
        "comment": f"{surgeon.display_name} at {location.name}",
    }


def slot_resource(
    slot: Slot, appointment_type: AppointmentType, extensions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": slot_id(slot, appointment_type),
        "schedule": {"reference": f"Schedule/{pair_id(slot.surgeon_id, slot.location_id)}"},
        "status": "free",
        "start": instant(slot.start, slot.timezone),
        "end": instant(slot.end, slot.timezone),
        "appointmentType": appointment_type_concept(appointment_type),
    }
    if extensions:
        resource = {"resourceType": "Slot", "id": resource["id"], "extension": extensions, **resource}
    return resource


def patient_resource(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "active": True,
        "name": [{"family": patient.last_name, "given": [patient.first_name]}],
        "telecom": [{"system": "phone", "value": str(patient.phone), "use": "mobile"}],
        "birthDate": patient.date_of_birth.isoformat(),
    }
    if patient.record_number:
        resource["identifier"] = [{"system": RECORD_NUMBER_SYSTEM, "value": patient.record_number}]
    return resource


def _participants(
    *, patient: Patient | None, surgeon: Surgeon, location: Location, status: str
) -> list[dict[str, Any]]:
    participants = []
    if patient is not None:
        participants.append({"actor": _actor("Patient", patient.pk, str(patient)), "status": status})
    participants.append(
        {
            "actor": _actor("Practitioner", surgeon.pk, surgeon.display_name),
            "required": "required",
            "status": status,
        }
    )
    participants.append(
        {"actor": _actor("Location", location.pk, location.name), "required": "required", "status": status}
    )
    return participants


def appointment_resource(appointment: Appointment) -> dict[str, Any]:
    """A visit; call with patient, surgeon, location, appointment_type and tier loaded."""
    status = APPOINTMENT_STATUSES[AppointmentStatus(appointment.status)]
    zone_name = appointment.location.timezone
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "extension": [tier_extension(appointment.tier)],
        "status": status,
        "appointmentType": appointment_type_concept(appointment.appointment_type),
        "start": instant(appointment.start, zone_name),
        "end": instant(appointment.end, zone_name),
        "minutesDuration": appointment.appointment_type.duration_minutes,
        "created": instant(appointment.booked_at, zone_name),
        "participant": _participants(
            patient=appointment.patient,
            surgeon=appointment.surgeon,
            location=appointment.location,
            status="declined" if status == "cancelled" else "accepted",
        ),
    }
    return resource


def hold_resource(hold: Hold) -> dict[str, Any]:
    """A hold as the pending Appointment `hold-<id>`; call with its relations loaded."""
    zone_name = hold.location.timezone
    return {
        "resourceType": "Appointment",
        "id": f"{HOLD_PREFIX}{hold.pk}",
        "extension": [
            tier_extension(hold.tier),
            {"url": HOLD_EXPIRES_EXTENSION, "valueInstant": instant(hold.expires_at)},
        ],
        "status": HOLD_STATUS,
        "appointmentType": appointment_type_concept(hold.appointment_type),
        "start": instant(hold.start, zone_name),
        "end": instant(hold.end, zone_name),
        "minutesDuration": hold.appointment_type.duration_minutes,
        "created": instant(hold.created_at, zone_name),
        "participant": _participants(
            patient=hold.patient, surgeon=hold.surgeon, location=hold.location, status="tentative"
        ),
    }


def proposed_appointment(
    slot: Slot, appointment_type: AppointmentType, tier: UrgencyTier, surgeon: Surgeon, location: Location
) -> dict[str, Any]:
    """A free slot offered by $find: an Appointment with status proposed, not stored."""
    return {
        "resourceType": "Appointment",
        "extension": [tier_extension(tier)],
        "status": "proposed",
        "appointmentType": appointment_type_concept(appointment_type),
        "slot": [{"reference": f"Slot/{slot_id(slot, appointment_type)}"}],
        "start": instant(slot.start, slot.timezone),
        "end": instant(slot.end, slot.timezone),
        "minutesDuration": appointment_type.duration_minutes,
        "participant": _participants(patient=None, surgeon=surgeon, location=location, status="needs-action"),
    }
