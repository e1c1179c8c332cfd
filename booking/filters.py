"""Query-string filters for booking's list endpoints (django-filter)."""

from __future__ import annotations

import re

import django_filters
from django.db.models import Q, QuerySet

from booking.models import Appointment, AppointmentStatus, Patient, WaitlistEntry, WaitlistStatus
from locations.models import Location
from practice.models import AppointmentType, Surgeon, UrgencyTier

_NON_DIGITS = re.compile(r"\D")
_PHONE_SHAPE = re.compile(r"^[\d\s()+.-]+$")
# Fewer digits than this would match half the practice by coincidence.
MIN_PHONE_DIGITS = 4


def patients_matching(queryset: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """Patients whose record number, phone or name matches `query`.

    A record number matches exactly (any case); a phone by its trailing digits, so "555-0123",
    "(312) 555-0123" and "+1 312 555 0123" all find +13125550123; a name by every word starting
    the first or the last name ("jo smi" finds John Smith).
    """
    query = query.strip()
    if not query:
        return queryset
    condition = Q(record_number__iexact=query)
    digits = _NON_DIGITS.sub("", query)
    if _PHONE_SHAPE.match(query) and len(digits) >= MIN_PHONE_DIGITS:
        condition |= Q(phone__endswith=digits)
    words = query.split()
    if words and not _PHONE_SHAPE.match(query):
        name = Q()
        for word in words:
            name &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        condition |= name
    return queryset.filter(condition)


class PatientFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Name, phone (any format, trailing digits) or record number."
    )
    preferred_location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())

    class Meta:
        model = Patient
        fields = ["search", "preferred_location"]

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return patients_matching(queryset, value)


class AppointmentFilter(django_filters.FilterSet):
    patient = django_filters.ModelChoiceFilter(queryset=Patient.objects.all())
    surgeon = django_filters.ModelChoiceFilter(queryset=Surgeon.objects.all())
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())
    appointment_type = django_filters.ModelChoiceFilter(
        queryset=AppointmentType.objects.all(), to_field_name="code", label="Appointment type code."
    )
    tier = django_filters.ModelChoiceFilter(
        queryset=UrgencyTier.objects.all(), to_field_name="code", label="Tier code."
    )
    status = django_filters.MultipleChoiceFilter(choices=AppointmentStatus.choices)
    start_from = django_filters.IsoDateTimeFilter(
        field_name="start", lookup_expr="gte", label="Starts at or after (ISO 8601 with offset)."
    )
    start_to = django_filters.IsoDateTimeFilter(
        field_name="start", lookup_expr="lt", label="Starts before (ISO 8601 with offset)."
    )

    class Meta:
        model = Appointment
        fields = [
            "patient",
            "surgeon",
            "location",
            "appointment_type",
            "tier",
            "status",
            "start_from",
            "start_to",
        ]


class WaitlistEntryFilter(django_filters.FilterSet):
    patient = django_filters.ModelChoiceFilter(queryset=Patient.objects.all())
    tier = django_filters.ModelChoiceFilter(queryset=UrgencyTier.objects.all(), to_field_name="code")
    appointment_type = django_filters.ModelChoiceFilter(
        queryset=AppointmentType.objects.all(), to_field_name="code"
    )
    surgeon = django_filters.ModelChoiceFilter(queryset=Surgeon.objects.all())
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())
    status = django_filters.MultipleChoiceFilter(choices=WaitlistStatus.choices)

    class Meta:
        model = WaitlistEntry
        fields = ["patient", "tier", "appointment_type", "surgeon", "location", "status"]
