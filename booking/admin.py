"""Patients, appointments and the waitlist in the Django admin.

Appointments are read-only here: booking, moving and cancelling go through the services (the
API), which re-validate the slot, keep the lifecycle and call the notification hooks. The
history (django-simple-history) shows every change either way.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from booking.models import Appointment, Patient, VisitEvent, WaitlistEntry, WaitlistOffer
from booking.services import patient_validate
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


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    list_display = [
        "start",
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
    list_display = ["id", "kind", "appointment", "created_at", "handled_at"]
    list_filter = ["kind", ("handled_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["appointment"]
