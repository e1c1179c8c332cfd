"""Practice-wide reads."""

from __future__ import annotations

from functools import cache
from typing import Any

import django_filters
from django.db import connection
from django.db.models import QuerySet, Subquery

from practice.db import execute_prepared, numbered
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


class UnknownCode(Exception):
    """A code that names no (active) appointment type or no urgency tier; `field` says which."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"Object with code={code} does not exist.")
        self.field = field


def _code_lookup(code: str) -> str | None:
    # PostgreSQL refuses a NUL byte in a query (a 500); no code holds one.
    return None if "\x00" in code else code


def appointment_type_and_tier(
    *, type_code: str, tier_code: str | None, type_field: str = "appointment_type", tier_field: str = "tier"
) -> tuple[AppointmentType, UrgencyTier | None]:
    """The active appointment type and the urgency tier with these codes, in one query (the tier
    rides along as subqueries); raises UnknownCode naming the field of a code that matches none.

    A search's two lookups as one round trip: the tier's columns are read beside the type's."""
    type_lookup, tier_lookup = _code_lookup(type_code), None if tier_code is None else _code_lookup(tier_code)
    if connection.vendor == "postgresql":
        return _appointment_type_and_tier_postgresql(
            type_code=type_code,
            tier_code=tier_code,
            type_lookup=type_lookup,
            tier_lookup=tier_lookup,
            type_field=type_field,
            tier_field=tier_field,
        )
    tier_columns = [field.attname for field in UrgencyTier._meta.concrete_fields]
    query = AppointmentType.objects.filter(code=type_lookup, is_active=True)
    if tier_code is not None:
        tier_row = UrgencyTier.objects.filter(code=tier_lookup)
        query = query.annotate(
            **{f"tier_column_{column}": Subquery(tier_row.values(column)[:1]) for column in tier_columns}
        )
    appointment_type = query.first() if type_lookup is not None else None
    if appointment_type is None:
        raise UnknownCode(type_field, type_code)
    if tier_code is None:
        return appointment_type, None
    values = [getattr(appointment_type, f"tier_column_{column}") for column in tier_columns]
    if values[tier_columns.index("id")] is None:
        raise UnknownCode(tier_field, tier_code)
    return appointment_type, UrgencyTier.from_db(appointment_type._state.db, tier_columns, values)


_TERMS_PARAMETERS = (("type_code", "text"), ("tier_code", "text"))


@cache
def _terms_statement() -> tuple[str, ...]:
    quote = connection.ops.quote_name
    columns = [f"a.{quote(str(field.column))}" for field in AppointmentType._meta.concrete_fields]
    columns += [f"t.{quote(str(field.column))}" for field in UrgencyTier._meta.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(AppointmentType._meta.db_table)} a"  # noqa: S608 - names only
        f" LEFT JOIN {quote(UrgencyTier._meta.db_table)} t ON t.code = %(tier_code)s"
        " WHERE a.code = %(type_code)s AND a.is_active"
    )
    return (numbered(sql, _TERMS_PARAMETERS),)


def _appointment_type_and_tier_postgresql(
    *,
    type_code: str,
    tier_code: str | None,
    type_lookup: str | None,
    tier_lookup: str | None,
    type_field: str,
    tier_field: str,
) -> tuple[AppointmentType, UrgencyTier | None]:
    """`appointment_type_and_tier` as one prepared statement: the ORM's building and PostgreSQL's
    planning of its subqueries took about 1.5 ms of every search, this about 0.2 ms."""
    row = None
    if type_lookup is not None:
        with connection.cursor() as cursor:
            execute_prepared(
                cursor,
                _terms_statement(),
                _TERMS_PARAMETERS,
                {"type_code": type_lookup, "tier_code": tier_lookup},
            )
            row = cursor.fetchone()
    if row is None:
        raise UnknownCode(type_field, type_code)
    type_fields = [field.attname for field in AppointmentType._meta.concrete_fields]
    tier_fields = [field.attname for field in UrgencyTier._meta.concrete_fields]
    appointment_type = AppointmentType.from_db(connection.alias, type_fields, row[: len(type_fields)])
    if tier_code is None:
        return appointment_type, None
    tier_values = row[len(type_fields) :]
    if tier_values[tier_fields.index("id")] is None:
        raise UnknownCode(tier_field, tier_code)
    return appointment_type, UrgencyTier.from_db(connection.alias, tier_fields, tier_values)


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
