"""The outbox and replies in the Django admin: read-only, since the rows are the audit trail.

Worklist items may be marked resolved; everything else changes only through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications.models import InboundMessage, Message, VisitPageAccess, WorklistItem
from notifications.worklist import worklist_item_resolve


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "patient", "status", "due_at", "attempts", "error_code", "created_at"]
    list_filter = ["status", "kind", "suppressed_reason"]
    search_fields = ["provider_sid", "to", "patient__last_name"]
    list_select_related = ["patient"]
    date_hierarchy = "created_at"


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "intent", "patient", "from_number", "outcome", "received_at"]
    list_filter = ["intent"]
    search_fields = ["provider_sid", "from_number", "patient__last_name"]
    list_select_related = ["patient"]


@admin.register(VisitPageAccess)
class VisitPageAccessAdmin(ReadOnlyAdmin):
    """What was done on visit pages opened from texts' links (the patients' side of the audit)."""

    list_display = ["id", "at", "action", "appointment", "patient", "ip"]
    list_filter = ["action"]
    search_fields = ["ip", "patient__last_name"]
    list_select_related = ["appointment", "patient"]


@admin.register(WorklistItem)
class WorklistItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "patient", "summary", "created_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["patient"]
    actions = ["resolve"]

    @admin.action(description="Mark resolved")
    def resolve(self, request: HttpRequest, queryset: QuerySet[WorklistItem]) -> None:
        for item in queryset.filter(resolved_at__isnull=True):
            worklist_item_resolve(item=item)
