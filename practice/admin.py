from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from locations.admin import BlockInline, TimeOffInline
from practice.errors import InvalidInput
from practice.models import AppointmentType, Surgeon, UrgencyTier
from practice.services import specialties_validate


class SurgeonForm(forms.ModelForm):
    class Meta:
        model = Surgeon
        fields = ["first_name", "last_name", "display_name", "specialties", "is_active"]

    def clean_specialties(self) -> Any:
        try:
            return specialties_validate(self.cleaned_data["specialties"])
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from error


@admin.register(Surgeon)
class SurgeonAdmin(SimpleHistoryAdmin):
    form = SurgeonForm
    inlines = [BlockInline, TimeOffInline]
    list_display = ["display_name", "first_name", "last_name", "is_active"]
    list_filter = ["is_active", "blocks__location"]
    search_fields = ["first_name", "last_name", "display_name"]


@admin.register(AppointmentType)
class AppointmentTypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "duration_minutes", "buffer_minutes", "min_notice_hours", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]


@admin.register(UrgencyTier)
class UrgencyTierAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "max_wait_days", "rank"]
    search_fields = ["name", "code"]
