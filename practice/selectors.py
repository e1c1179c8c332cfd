"""Practice-wide reads."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import connection
from django.db.models import Q, QuerySet

from practice.models import AppointmentType, Surgeon, UrgencyTier


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


# --- Reference data: surgeons, appointment types, urgency tiers -------------------------------


class SurgeonFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(method="filter_name", label="Part of the first, last or display name.")
    is_active = django_filters.BooleanFilter()
    location = django_filters.NumberFilter(
        field_name="blocks__location", distinct=True, label="Surgeons with a block at this location."
    )

    class Meta:
        model = Surgeon
        fields = ["name", "is_active", "location"]

    def filter_name(self, queryset: QuerySet[Surgeon], name: str, value: str) -> QuerySet[Surgeon]:
        return queryset.filter(
            Q(first_name__icontains=value) | Q(last_name__icontains=value) | Q(display_name__icontains=value)
        )


class AppointmentTypeFilter(django_filters.FilterSet):
    class Meta:
        model = AppointmentType
        fields = ["code", "is_active"]


class UrgencyTierFilter(django_filters.FilterSet):
    class Meta:
        model = UrgencyTier
        fields = ["code"]


def surgeon_list() -> QuerySet[Surgeon]:
    return Surgeon.objects.all()


def appointment_type_list() -> QuerySet[AppointmentType]:
    return AppointmentType.objects.all()


def urgency_tier_list() -> QuerySet[UrgencyTier]:
    return UrgencyTier.objects.all()
