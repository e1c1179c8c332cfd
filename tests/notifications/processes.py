"""Real processes for the SMS integration tests: a Redis of our own and Celery workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from tests.notifications.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from workers.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal a process started in its own session, and everything it spawned; reap it."""
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Redis:
    """A redis-server of our own on a free port, to stop and start at will (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert wait_until(self._answers, timeout=10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def point_publisher_at(broker_url: str) -> None:
    """Make this process's Celery app publish to `broker_url` (its pools are rebuilt lazily)."""
    celery_app.conf.broker_url = broker_url
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None


def worker_env(*, redis_url: str, fake: FakeTwilio, **extra: str) -> dict[str, str]:
    """The worker sees this test's database (committed data: transaction=True tests)."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{database['NAME']}"
    else:
        url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "practice.test_settings",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake.base_url,
        "SMS_QUIET_HOURS": "",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@contextmanager
def celery_worker(
    env: dict[str, str], *, pool: str = "threads", concurrency: int = 4, app: str = "workers.celery:app"
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            app,
            "worker",
            "-Q",
            "sms,default",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop(process)
