from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from practice.models import AppointmentType, AuditEntry, AuthToken, LoginFailure, UrgencyTier


@admin.register(AppointmentType)
class AppointmentTypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "duration_minutes", "buffer_minutes", "min_notice_hours", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]


@admin.register(UrgencyTier)
class UrgencyTierAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "max_wait_days", "rank"]
    search_fields = ["name", "code"]


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """API logins, one per device: deleting one logs that device out. No secret is shown or kept."""

    list_display = ["user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Refused logins counted toward a lockout: deleting a username's or address's rows lifts it."""

    list_display = ["kind", "key", "created_at"]
    list_filter = ["kind"]
    search_fields = ["key"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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
