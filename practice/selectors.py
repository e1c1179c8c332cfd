"""Practice-wide reads."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import connection
from django.db.models import QuerySet

from practice.models import AppointmentType, AuditEntry, UrgencyTier


def health_check() -> dict[str, Any]:
    """The state of the database and the broker, each {"ok": bool, "error"?: str}."""
    from workers.celery import app

    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the type is the report
        checks["database"] = {"ok": False, "error": type(error).__name__}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = {"ok": True}
    except Exception as error:  # noqa: BLE001 - as above
        checks["broker"] = {"ok": False, "error": type(error).__name__}
    return checks


# --- Reference data: appointment types, urgency tiers -----------------------------------------


class AppointmentTypeFilter(django_filters.FilterSet):
    class Meta:
        model = AppointmentType
        fields = ["code", "is_active"]


class UrgencyTierFilter(django_filters.FilterSet):
    class Meta:
        model = UrgencyTier
        fields = ["code"]


def appointment_type_list() -> QuerySet[AppointmentType]:
    return AppointmentType.objects.all()


def urgency_tier_list() -> QuerySet[UrgencyTier]:
    return UrgencyTier.objects.all()


# --- The PHI audit trail ---------------------------------------------------------------------


class AuditEntryFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id", help_text="Only this patient's rows.")
    user = django_filters.NumberFilter(field_name="user_id", help_text="Only this user's rows (user id).")
    start = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", help_text="At or after.")
    end = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", help_text="Before.")

    class Meta:
        model = AuditEntry
        fields = ["patient", "user", "start", "end", "action", "object_type"]


def audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("user")
