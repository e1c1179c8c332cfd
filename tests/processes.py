"""Starting and stopping the service's real processes (Celery workers, the web server) in tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# What practice.test_settings put into this process's environment; an "embedded defaults" child
# must not inherit it.
PROJECT_VARIABLES = {
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "SMS_BACKEND",
    "ALLOWED_HOSTS",
    "DEBUG",
    "CELERY_BROKER_URL",
}


def embedded_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment `make run` gives its processes with no settings at all."""
    env = {key: value for key, value in os.environ.items() if key not in PROJECT_VARIABLES}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "practice.settings",
            "DEBUG": "true",
            "VAR_DIR": str(var_dir),
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            **extra,
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_in_session(session_id: int) -> list[int]:
    result = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True, check=True)
    pids = []
    for line in result.stdout.splitlines():
        pid, sid = (int(field) for field in line.split())
        if sid == session_id:
            pids.append(pid)
    return pids


def stop_session(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Signal a process started with start_new_session=True and all it spawned, then reap it."""
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def celery_worker(
    env: dict[str, str], *, queues: str = "default", pool: str = "solo"
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "workers.celery:app",
            "worker",
            "-Q",
            queues,
            "--pool",
            pool,
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
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
        stop_session(process)


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
