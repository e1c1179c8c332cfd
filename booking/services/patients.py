"""Patients: created, corrected, and deleted only when entered by mistake."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q

from booking.models import Patient
from locations.models import Location
from practice.clock import practice_today
from practice.errors import Conflict, InvalidInput


class PatientHasAppointments(Conflict):
    code = "patient_has_appointments"
    default_message = "The patient has appointments or surgeries on record and cannot be deleted."


class PossibleDuplicate(Conflict):
    code = "possible_duplicate"
    default_message = (
        "A patient with the same name and date of birth, or the same phone and date of birth, is on "
        "record; use them, or send confirm_new=true to create a new patient anyway."
    )

    def __init__(self, matches: list[Patient]) -> None:
        super().__init__(
            fields={"confirm_new": [self.default_message]},
            extra={
                "matches": [
                    {
                        "id": match.pk,
                        "first_name": match.first_name,
                        "last_name": match.last_name,
                        "date_of_birth": match.date_of_birth.isoformat(),
                        "phone": str(match.phone),
                        "record_number": match.record_number,
                    }
                    for match in matches
                ]
            },
        )
        self.matches = matches


def patient_duplicates(
    *, first_name: str, last_name: str, date_of_birth: dt.date, phone: Any
) -> list[Patient]:
    """Patients who may be this one: the same name (any case) and date of birth, or the same phone
    and date of birth."""
    same_name = Q(first_name__iexact=first_name.strip(), last_name__iexact=last_name.strip())
    return list(
        Patient.objects.filter(Q(date_of_birth=date_of_birth) & (same_name | Q(phone=phone))).order_by("id")[
            :5
        ]
    )


def patient_validate(*, date_of_birth: dt.date | None, today: dt.date | None = None) -> None:
    if date_of_birth is not None and date_of_birth > (today or practice_today()):
        raise InvalidInput.for_field("date_of_birth", "The date of birth is in the future.")


def _patient_save(patient: Patient) -> Patient:
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as error:
        if "record_number" in str(error):
            raise InvalidInput.for_field(
                "record_number", "Another patient already has this record number."
            ) from error
        raise
    return patient


def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: Any,
    sms_consent: bool = False,
    record_number: str | None = None,
    preferred_location: Location | None = None,
    language: str = "en",
    confirm_new: bool = False,
) -> Patient:
    """Create a patient. One who may already be on record (`patient_duplicates`) is refused with
    the matches (409 `possible_duplicate`) unless `confirm_new`."""
    patient_validate(date_of_birth=date_of_birth)
    if not confirm_new:
        matches = patient_duplicates(
            first_name=first_name, last_name=last_name, date_of_birth=date_of_birth, phone=phone
        )
        if matches:
            raise PossibleDuplicate(matches)
    patient = Patient(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        phone=phone,
        sms_consent=sms_consent,
        record_number=(record_number or "").strip() or None,
        preferred_location=preferred_location,
        language=language,
    )
    return _patient_save(patient)


PATIENT_FIELDS = {
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "sms_consent",
    "record_number",
    "preferred_location",
    "language",
}


def patient_update(*, patient: Patient, data: dict[str, Any]) -> Patient:
    """Change the given fields of a patient; unknown names are a programming error."""
    unknown = set(data) - PATIENT_FIELDS
    if unknown:
        raise ValueError(f"patient_update got unknown fields {sorted(unknown)}")
    patient_validate(date_of_birth=data.get("date_of_birth"))
    for name, value in data.items():
        if name in {"first_name", "last_name"}:
            value = value.strip()
        elif name == "record_number":
            value = (value or "").strip() or None
        setattr(patient, name, value)
    return _patient_save(patient)


def patient_delete(*, patient: Patient) -> None:
    """Delete a patient entered by mistake; one with appointments on record is kept (409)."""
    try:
        with transaction.atomic():
            patient.delete()
    except ProtectedError as error:
        raise PatientHasAppointments() from error
