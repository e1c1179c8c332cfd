"""The Celery app: `celery -A workers.celery:app worker|beat`.

Only wiring lives here (queues, routes, the beat schedule). Tasks live in each app's tasks.py
as thin wrappers around services.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")

app = Celery("practice")
# Broker, result backend and time limits come from Django settings (CELERY_*), hence the env.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # A task is acknowledged after it ran, and given back if its worker dies mid-way: tasks are
    # written to be safe to run twice.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue="default",
    # Each queue bound by its own routing key: with one shared key, a worker consuming both
    # would receive every task twice.
    task_queues=(Queue("default", routing_key="default"), Queue("sms", routing_key="sms")),
    task_routes={"notifications.tasks.*": {"queue": "sms"}},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        # Sends what the broker lost (an outage), reconciles rows a dead worker left, and hands
        # on visit events whose hand-off was lost.
        "sms-sweep": {"task": "notifications.tasks.sweep", "schedule": 60.0},
        # Follow-ups run two years out: rows scanned by beat, never countdown tasks.
        "follow-up-scan": {"task": "notifications.tasks.scan_follow_ups", "schedule": crontab(minute="*/15")},
        # Patients texted about a closure who have not moved their visit a day later: the worklist.
        "stranded-unanswered-scan": {
            "task": "notifications.tasks.scan_stranded_unanswered",
            "schedule": crontab(minute="*/15"),
        },
        # Housekeeping: Idempotency-Key replays live 24 hours; waitlist entries end at their latest date.
        "idempotency-key-purge": {
            "task": "practice.tasks.purge_idempotency_keys",
            "schedule": crontab(minute=7),
        },
        # An offer of a freed slot lapses unanswered after SMS_WAITLIST_OFFER_HOURS.
        "waitlist-offer-lapse": {"task": "booking.tasks.lapse_waitlist_offers", "schedule": 60.0},
        # Judges again the visits that changes since the last read name (PostgreSQL's kept
        # conflict rows), so the conflict list and the worklist rarely have to.
        "visit-conflicts-refresh": {"task": "booking.tasks.refresh_visit_conflicts", "schedule": 60.0},
        "waitlist-expiry": {
            "task": "booking.tasks.expire_waitlist_entries",
            "schedule": crontab(hour=5, minute=17),
        },
    },
)
app.autodiscover_tasks()
