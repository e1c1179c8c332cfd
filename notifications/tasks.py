"""Thin tasks on the `sms` queue: they take ids, call one service, and are safe to run twice."""

from __future__ import annotations

from notifications import services

# The project's app, not shared_task: a web process that never imported workers.celery would
# otherwise publish through Celery's unconfigured default app (wrong broker, no `sms` route).
from workers.celery import app


@app.task(name="notifications.tasks.send_messages", ignore_result=True)
def send_messages(message_ids: list[int]) -> None:
    retries = services.messages_send(message_ids=message_ids)
    for message_id, retry_in in retries.items():
        # A short countdown is safe (far below the visibility timeout); the sweep is the backstop.
        services.message_retry_enqueue(message_id=message_id, countdown=retry_in)


@app.task(name="notifications.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    return services.messages_sweep()


@app.task(name="notifications.tasks.scan_follow_ups", ignore_result=True)
def scan_follow_ups() -> int:
    return services.follow_ups_scan()
