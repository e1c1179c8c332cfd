"""Patients, appointments and the waitlist in the Django admin.

Appointments are read-only here: booking, moving and cancelling go through the services (the
API), which re-validate the slot, keep the lifecycle and call the notification hooks. The
history (django-simple-history) shows every change either way.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from booking.models import Appointment, Patient, Referral, VisitEvent, WaitlistEntry, WaitlistOffer
from booking.services import patient_validate
from practice.admin_widgets import instant_in_zone, span_in_zone
from practice.errors import InvalidInput


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "sms_consent",
            "record_number",
            "preferred_location",
        ]

    def clean_date_of_birth(self) -> Any:
        value = self.cleaned_data["date_of_birth"]
        try:
            patient_validate(date_of_birth=value)
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from error
        return value


@admin.register(Patient)
class PatientAdmin(SimpleHistoryAdmin):
    form = PatientForm
    list_display = ["last_name", "first_name", "date_of_birth", "phone", "record_number", "sms_consent"]
    search_fields = ["last_name", "first_name", "phone", "record_number"]
    list_filter = ["sms_consent", "preferred_location"]
    readonly_fields = ["sms_opted_out_at", "created_at"]


def _at_location(field: str, description: str) -> Any:
    """A read-only display of an appointment's instant on its location's wall clock."""

    @admin.display(description=description, ordering=field)
    def display(self: admin.ModelAdmin, obj: Appointment) -> str:
        return instant_in_zone(getattr(obj, field), obj.location.timezone)

    return display


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    """Every time is on the location's wall clock, named, as the patient and the clinic see it."""

    list_display = [
        "visit",
        "patient",
        "surgeon",
        "location",
        "appointment_type",
        "tier",
        "status",
        "within_window",
    ]
    list_filter = ["status", "location", "surgeon", "tier", "within_window", "late_cancellation"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__record_number"]
    date_hierarchy = "start"
    list_select_related = ["patient", "surgeon", "location", "appointment_type", "tier"]
    raw_id_fields = ["patient", "rescheduled_from"]
    fields = [
        "patient",
        "surgeon",
        "location",
        "appointment_type",
        "tier",
        "start_local",
        "end_local",
        "busy_until_local",
        "status",
        "reason",
        "within_window",
        "window_override_reason",
        "booked_by",
        "booked_at_local",
        "confirmed_at_local",
        "cancelled_at_local",
        "cancellation_reason",
        "late_cancellation",
        "rescheduled_from",
    ]
    readonly_fields = [
        "start_local",
        "end_local",
        "busy_until_local",
        "booked_at_local",
        "confirmed_at_local",
        "cancelled_at_local",
    ]

    @admin.display(description="visit", ordering="start")
    def visit(self, obj: Appointment) -> str:
        return span_in_zone(obj.start, obj.end, obj.location.timezone)

    start_local = _at_location("start", "start")
    end_local = _at_location("end", "end")
    busy_until_local = _at_location("busy_until", "busy until")
    booked_at_local = _at_location("booked_at", "booked at")
    confirmed_at_local = _at_location("confirmed_at", "confirmed at")
    cancelled_at_local = _at_location("cancelled_at", "cancelled at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = [
        "patient",
        "tier",
        "appointment_type",
        "surgeon",
        "location",
        "earliest_date",
        "latest_date",
        "status",
        "created_at",
    ]
    list_filter = ["status", "tier", "appointment_type", "location"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__record_number"]
    list_select_related = ["patient", "tier", "appointment_type", "surgeon", "location"]
    raw_id_fields = ["patient"]


class _ReadOnly(admin.ModelAdmin):
    """Rows written only by the services: the record of what happened."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(_ReadOnly):
    list_display = ["id", "entry", "freed", "status", "booked", "created_at", "answered_at"]
    list_filter = ["status"]


@admin.register(VisitEvent)
class VisitEventAdmin(_ReadOnly):
    list_display = ["id", "kind", "appointment", "referral", "created_at", "handled_at"]
    list_filter = ["kind", ("handled_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["appointment", "referral"]


def _referral_zone(referral: Referral) -> str:
    return (
        referral.preferred_location.timezone
        if referral.preferred_location is not None
        else settings.SMS_DEFAULT_TIMEZONE
    )


@admin.register(Referral)
class ReferralAdmin(SimpleHistoryAdmin, _ReadOnly):
    """Read-only: referrals are recorded, triaged and closed through the API (the services keep
    the clock). Times on the referral's clinic's clock, else the practice's."""

    list_display = ["patient", "tier", "status", "received", "due", "preferred_location"]
    list_filter = ["status", "tier", "preferred_location"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__record_number", "source"]
    list_select_related = ["patient", "tier", "appointment_type", "preferred_location"]
    ordering = ["due_by", "id"]

    @admin.display(description="received", ordering="received_at")
    def received(self, obj: Referral) -> str:
        return instant_in_zone(obj.received_at, _referral_zone(obj))

    @admin.display(description="due by", ordering="due_by")
    def due(self, obj: Referral) -> str:
        return instant_in_zone(obj.due_by, _referral_zone(obj))
