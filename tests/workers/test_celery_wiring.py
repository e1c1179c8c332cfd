"""The Celery wiring is real: tasks travel through a broker to a separate worker process and back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT, celery_worker, embedded_env
from workers.celery import app

pytestmark = pytest.mark.integration


def test_a_task_round_trips_through_redis_and_a_real_worker() -> None:
    from practice.tasks import ping

    assert app.conf.broker_url.startswith("redis://")
    with celery_worker(dict(os.environ)):
        assert ping.delay("redis").get(timeout=60) == "pong:redis"


def test_a_task_round_trips_through_the_embedded_broker_with_no_server(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    producer = (
        "import django; django.setup(); "
        "from workers.celery import app; from practice.tasks import ping; "
        "assert app.conf.broker_url == 'filesystem://', app.conf.broker_url; "
        "print(ping.delay('embedded').get(timeout=60))"
    )
    with celery_worker(env):
        result = subprocess.run(
            [sys.executable, "-c", producer], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pong:embedded"


def test_the_worker_configuration_is_json_only_with_late_acks_and_two_queues() -> None:
    conf = app.conf
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert {queue.name for queue in conf.task_queues} == {"default", "sms"}
    assert conf.task_soft_time_limit < conf.task_time_limit


def test_every_beat_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled >= {"notifications.tasks.sweep", "practice.tasks.purge_idempotency_keys"}
    assert scheduled <= set(app.tasks)


def test_tasks_route_to_their_queues() -> None:
    assert app.amqp.router.route({}, "notifications.tasks.send_messages")["queue"].name == "sms"
    assert app.amqp.router.route({}, "practice.tasks.ping")["queue"].name == "default"


def test_a_broker_that_accepts_but_never_answers_fails_a_publish_within_seconds() -> None:
    """The relay thread publishes a process's texts; a silent broker must not stop it for good."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does) and never says a word
    port = silent.getsockname()[1]
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
    }
    publisher = (
        "import time, django; django.setup(); "
        "from notifications.tasks import messages_enqueue; "
        "began = time.monotonic(); messages_enqueue([1]); print(round(time.monotonic() - began, 1))"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", publisher], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        silent.close()
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip()) < 15
    assert "enqueue failed" in result.stderr + result.stdout
