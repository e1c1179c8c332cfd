"""Thin tasks on the `sms` queue: they take ids, call services, and are safe to run twice.

Also the hand-off to them: booking's visit events reach `handle_events` through a per-process
relay thread (a booking returns as soon as it commits), and rows go to `send_messages` in
chunks. A broker outage loses nothing: the rows are in the database and the sweep finds them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from celery import Task
from django.db import transaction

from notifications import follow_ups, reactions, sending, stranded
from notifications.relay import Relay

# The project's app, not shared_task: a web process that never imported workers.celery would
# otherwise publish through Celery's unconfigured default app (wrong broker, no `sms` route).
from workers.celery import app

logger = logging.getLogger(__name__)

# Ids handed over together (a batch, a sweep) travel this many to a task: the broker's cost is
# paid once per chunk, and the worker's threads each take a chunk.
ENQUEUE_CHUNK = 25
# Event ids committed within this many seconds of each other share a publish (a publish costs
# about as much CPU as a booking's queries); alone, a text waits this long more.
RELAY_LINGER_SECONDS = 0.05


@app.task(name="notifications.tasks.send_messages", ignore_result=True)
def send_messages(message_ids: list[int]) -> None:
    # Done before the soft time limit: what a slow Twilio leaves unsent goes to another task.
    deadline = time.monotonic() + (app.conf.task_soft_time_limit or 60)
    sent = sending.messages_send(message_ids=message_ids, deadline=deadline)
    # Twilio is slow: the rest go one a task, so every free thread of every worker takes one.
    for message_id in sent.left:
        messages_enqueue([message_id])
    for message_id, retry_in in sent.retries.items():
        # Countdowns of up to SMS_RETRY_MAX_SECONDS, below the visibility timeout; the sweep is
        # the backstop.
        messages_enqueue([message_id], countdown=retry_in)


@app.task(name="notifications.tasks.handle_events", ignore_result=True)
def handle_events(event_ids: list[int]) -> None:
    """React to booking's events, then send what is due at once from this worker."""
    due = reactions.events_handle(event_ids=event_ids)
    if due:
        send_messages(due)


@app.task(name="notifications.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    found = sending.messages_sweep()
    events_enqueue(found.event_ids)
    messages_enqueue(found.message_ids)
    return {"stranded": found.stranded, "enqueued": len(found.message_ids), "events": len(found.event_ids)}


@app.task(name="notifications.tasks.scan_follow_ups", ignore_result=True)
def scan_follow_ups() -> int:
    due = follow_ups.follow_ups_scan()
    messages_enqueue(due)
    return len(due)


@app.task(name="notifications.tasks.scan_stranded_unanswered", ignore_result=True)
def scan_stranded_unanswered() -> int:
    return stranded.stranded_unanswered_scan()


def stranded_notify(*, appointment_ids: Sequence[int], dry_run: bool) -> list[Mapping[str, Any]]:
    """`locations.patient_notices`' answer (registered in apps.py): the notices, and the due
    texts sent once the closure commits."""
    notices, due = stranded.visits_stranded_notify(appointment_ids=appointment_ids, dry_run=dry_run)
    if due:
        transaction.on_commit(lambda: messages_enqueue(due))
    return notices


def _publish(task: Task[Any, Any], ids: list[int], *, countdown: float | None = None) -> None:
    for start in range(0, len(ids), ENQUEUE_CHUNK):
        chunk = ids[start : start + ENQUEUE_CHUNK]
        try:
            task.apply_async((chunk,), countdown=countdown or 0, retry=False)
        except Exception as error:  # noqa: BLE001 (any broker failure: the sweep finds the rows later)
            logger.warning(
                "enqueue failed; the sweep will find the rows",
                extra={"task": task.name, "rows": len(ids) - start, "error": type(error).__name__},
            )
            return


def messages_enqueue(message_ids: list[int], *, countdown: float | None = None) -> None:
    """Hand outbox rows to the `sms` queue."""
    _publish(send_messages, message_ids, countdown=countdown)


def events_enqueue(event_ids: list[int]) -> None:
    """Hand visit events to the `sms` queue."""
    _publish(handle_events, event_ids)


_relay = Relay(events_enqueue, chunk=ENQUEUE_CHUNK, linger=RELAY_LINGER_SECONDS, name="event-relay")


def events_committed(sender: object, event_ids: list[int], **kwargs: object) -> None:
    """Receiver of `booking.signals.visit_events_committed` (connected in apps.py)."""
    _relay.submit(event_ids)
