"""Demo data for `make run`: idempotent, so loading it twice adds nothing.

Each app contributes a `demo_load()` in its own demo module; this one orders them.
"""

from __future__ import annotations

from django.db import transaction

from booking.demo import demo_load as booking_demo_load
from locations.demo import demo_load as locations_demo_load
from practice.services import user_create_or_update

DEMO_LOGINS = [
    ("admin", "administrator", "admin-demo-password"),
    ("scheduler", "scheduler", "scheduler-demo-password"),
]


@transaction.atomic
def demo_load() -> list[str]:
    """Load the demo practice; returns lines describing what a visitor can use."""
    for username, role, password in DEMO_LOGINS:
        user_create_or_update(username=username, role=role, password=password)
    lines = [f"login {username} / {password} ({role})" for username, role, password in DEMO_LOGINS]
    lines += locations_demo_load()
    lines += booking_demo_load()
    return lines
