"""Query-string filters for booking's list endpoints (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from booking.models import (
    OPEN_REFERRAL_STATUSES,
    Appointment,
    AppointmentStatus,
    Patient,
    Referral,
    ReferralStatus,
    WaitlistEntry,
    WaitlistStatus,
)
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


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("open", "Open (new or triaged)"), *ReferralStatus.choices],
        method="filter_status",
        label="`open` (new or triaged: the queue) or one status.",
    )
    patient = django_filters.ModelChoiceFilter(queryset=Patient.objects.all())
    tier = django_filters.ModelChoiceFilter(
        queryset=UrgencyTier.objects.all(), to_field_name="code", label="Tier code."
    )
    location = django_filters.ModelChoiceFilter(
        field_name="preferred_location", queryset=Location.objects.all(), label="Preferred location."
    )
    surgeon = django_filters.ModelChoiceFilter(
        field_name="preferred_surgeon", queryset=Surgeon.objects.all(), label="Preferred surgeon."
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Past its due_by (or not).")

    class Meta:
        model = Referral
        fields = ["status", "patient", "tier", "location", "surgeon", "overdue"]

    def filter_status(self, queryset: QuerySet[Referral], name: str, value: str) -> QuerySet[Referral]:
        if value == "open":
            return queryset.filter(status__in=OPEN_REFERRAL_STATUSES)
        return queryset.filter(status=value)

    def filter_overdue(self, queryset: QuerySet[Referral], name: str, value: bool) -> QuerySet[Referral]:
        now = timezone.now()
        return queryset.filter(due_by__lt=now) if value else queryset.filter(due_by__gte=now)
