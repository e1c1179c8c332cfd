"""`make run` end to end, with the embedded defaults: no database or broker server at all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import BIN, ROOT, embedded_env, free_port, processes_in_session, stop_session, wait_until

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local test URL
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def test_the_service_starts_serves_health_and_schema_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = embedded_env(tmp_path, PORT=str(port))
    for command in (["migrate", "--noinput"], ["load_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )

    service = subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: get(f"{base}/healthz")[0] == 200, timeout=60), "healthz never answered 200"
        status, body = get(f"{base}/healthz")
        assert json.loads(body) == {"status": "ok", "database": {"ok": True}, "broker": {"ok": True}}
        status, body = get(f"{base}/api/v1/schema/?format=json")
        assert status == 200 and json.loads(body)["openapi"].startswith("3.")
        # The worker and beat are up too: honcho names each process in its output.
        assert len(processes_in_session(service.pid)) >= 4  # honcho + web + worker + beat
    finally:
        # Ctrl-C in a terminal signals the whole foreground process group.
        stop_session(service, signal.SIGINT, timeout=40)
    output = service.stdout.read().decode() if service.stdout else ""
    assert wait_until(lambda: not processes_in_session(service.pid), timeout=15), output[-2000:]
    for name in ("web.1", "worker.1", "beat.1"):
        assert name in output
