from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from practice.models import AppointmentType, AuditEntry, UrgencyTier


@admin.register(AppointmentType)
class AppointmentTypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "duration_minutes", "buffer_minutes", "min_notice_hours", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]


@admin.register(UrgencyTier)
class UrgencyTierAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "max_wait_days", "rank"]
    search_fields = ["name", "code"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, so no one adds, changes or deletes a row."""

    list_display = ["at", "user", "action", "object_type", "object_id", "patient_id", "ip", "request_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["=patient_id", "=request_id", "user__username"]
    date_hierarchy = "at"
    list_select_related = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
