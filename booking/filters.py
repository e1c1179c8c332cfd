"""Query-string filters for booking's list endpoints (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from booking.models import Appointment, AppointmentStatus, Patient, WaitlistEntry, WaitlistStatus
from booking.selectors import patient_search
from locations.models import Location, Surgeon
from practice.filters import AwareDateTimeFilter
from practice.models import AppointmentType, UrgencyTier


class PatientFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Name, phone (any format, trailing digits) or record number."
    )
    preferred_location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())

    class Meta:
        model = Patient
        fields = ["search", "preferred_location"]

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return patient_search(query=value, patients=queryset)


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
    start_from = AwareDateTimeFilter(
        field_name="start", lookup_expr="gte", label="Starts at or after (ISO 8601 with offset)."
    )
    start_to = AwareDateTimeFilter(
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
