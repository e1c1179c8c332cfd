"""Practice's part of the demo for `make run`: the logins. Idempotent.

Each app contributes a `demo_load()` in its own demo module; `booking.demo.demo_load`, the top
of the chain, runs them in order.
"""

from __future__ import annotations

from practice.services import user_create_or_update

DEMO_LOGINS = [
    ("admin", "administrator", "admin-demo-password"),
    ("scheduler", "scheduler", "scheduler-demo-password"),
]


def demo_load() -> list[str]:
    """The demo logins, one per role; returns lines naming them."""
    for username, role, password in DEMO_LOGINS:
        user_create_or_update(username=username, role=role, password=password)
    return [f"login {username} / {password} ({role})" for username, role, password in DEMO_LOGINS]
