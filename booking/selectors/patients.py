"""Patient search by record number, phone or name."""

from __future__ import annotations

import re

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
