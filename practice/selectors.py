"""Practice-wide reads."""

from __future__ import annotations

from typing import Any

from django.db import connection


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
