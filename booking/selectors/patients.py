"""Patient search by record number, phone or name; whether a patient can be texted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from booking.models import Patient

_NON_DIGITS = re.compile(r"\D")
_PHONE_SHAPE = re.compile(r"^[\d\s()+.-]+$")
# Fewer digits than this would match half the practice by coincidence.
PATIENT_SEARCH_MIN_PHONE_DIGITS = 4


def patient_search(*, query: str, patients: QuerySet[Patient] | None = None) -> QuerySet[Patient]:
    """Patients whose record number, phone or name matches `query`.

    A record number matches exactly (any case); a phone by its trailing digits, so "555-0123",
    "(312) 555-0123" and "+1 312 555 0123" all find +13125550123; a name by every word starting
    the first or the last name ("jo smi" finds John Smith).
    """
    patients = Patient.objects.all() if patients is None else patients
    query = query.strip()
    if not query:
        return patients
    condition = Q(record_number__iexact=query)
    digits = _NON_DIGITS.sub("", query)
    if _PHONE_SHAPE.match(query):
        if len(digits) >= PATIENT_SEARCH_MIN_PHONE_DIGITS:
            condition |= Q(phone__endswith=digits)
    else:
        name = Q()
        for word in query.split():
            name &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        condition |= name
    return patients.filter(condition)


class TextsWithheld:
    """Why a patient gets no texts; the same codes as notifications' suppressed rows."""

    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    ALL = (NO_CONSENT, OPTED_OUT)


@dataclass(frozen=True)
class PatientTexts:
    will_send: bool
    withheld: str | None
    notice: str


def patient_texts(*, patient: Patient) -> PatientTexts:
    """Whether the visit's texts (confirmation, reminders) will reach the patient, and a sentence
    saying so for the scheduler. The rule notifications' outbox applies: a STOP outranks consent."""
    if patient.sms_opted_out_at is not None:
        return PatientTexts(
            will_send=False,
            withheld=TextsWithheld.OPTED_OUT,
            notice="No texts will be sent: the patient replied STOP. Tell them about the visit yourself.",
        )
    if not patient.sms_consent:
        return PatientTexts(
            will_send=False,
            withheld=TextsWithheld.NO_CONSENT,
            notice="No texts will be sent: the patient has not consented to SMS. "
            "Tell them about the visit yourself.",
        )
    return PatientTexts(
        will_send=True, withheld=None, notice="The patient will be texted a confirmation and reminders."
    )
