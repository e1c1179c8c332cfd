from __future__ import annotations

from celery import shared_task

from practice.idempotency import idempotency_keys_purge


@shared_task(ignore_result=False)
def ping(value: str) -> str:
    """A round trip through the broker and a worker, for health and wiring tests."""
    return f"pong:{value}"


@shared_task
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
