from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from practice.models import AppointmentType, UrgencyTier


@admin.register(AppointmentType)
class AppointmentTypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "duration_minutes", "buffer_minutes", "min_notice_hours", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]


@admin.register(UrgencyTier)
class UrgencyTierAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "max_wait_days", "rank"]
    search_fields = ["name", "code"]
