from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=False)
def ping(value: str) -> str:
    """A round trip through the broker and a worker, for health and wiring tests."""
    return f"pong:{value}"
