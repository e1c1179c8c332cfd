"""`make run` end to end, with the embedded defaults: no database or broker server at all."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
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


def post(url: str, body: dict[str, object], token: str | None = None) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310 - a local test URL
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a local test URL
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@contextmanager
def make_run(var_dir: Path, port: int, output: Path) -> Iterator[str]:
    """`make run` as a user types it, in this environment (BIN, no .venv to install), on var_dir;
    yields its base URL once /healthz answers, and stops it with Ctrl-C on leaving."""
    env = embedded_env(var_dir, PORT=str(port))
    for variable in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # when `make test` runs this test
        env.pop(variable, None)
    env.pop("DEBUG")  # make run's own default
    with output.open("wb") as log:
        service = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"BIN={BIN}", "STAMP="],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            assert wait_until(lambda: get(f"{base}/healthz")[0] == 200, timeout=120), output.read_text()[
                -3000:
            ]
            assert wait_until(lambda: " ready." in output.read_text(), timeout=30), (
                "the worker never got ready"
            )
            yield base
        finally:
            stop_session(service, signal.SIGINT, timeout=40)
    assert wait_until(lambda: not processes_in_session(service.pid), timeout=15)


def rows(database: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(database, timeout=10)) as connection:
        return connection.execute(sql, params).fetchall()


def settled(database: Path) -> bool:
    """Every visit event has had its reaction (its texts written)."""
    return rows(database, "SELECT count(*) FROM booking_visitevent WHERE handled_at IS NULL") == [(0,)]


def test_a_second_make_run_leaves_what_the_user_did_alone_and_serves_on_port(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "db.sqlite3"
    first, second = tmp_path / "first.log", tmp_path / "second.log"

    with make_run(tmp_path, port, first) as base:
        assert wait_until(lambda: settled(database), timeout=60), "the demo's confirmations never got written"
        status, body = post(
            f"{base}/api/v1/auth/token/", {"username": "scheduler", "password": "scheduler-demo-password"}
        )
        assert status == 200, body
        token = str(body["token"])
        [(visit_id,)] = rows(database, "SELECT id FROM booking_appointment ORDER BY start LIMIT 1")
        status, body = post(
            f"{base}/api/v1/appointments/{visit_id}/cancel/", {"reason": "the patient called"}, token
        )
        assert status == 200, body
        status, body = post(
            f"{base}/api/v1/patients/",
            {
                "first_name": "Ada",
                "last_name": "Quinn",
                "date_of_birth": "1970-01-02",
                "phone": "+13125550199",
            },
            token,
        )
        assert status == 201, body
        assert wait_until(lambda: settled(database), timeout=60), "the cancellation's texts never got written"
    counts = (
        "SELECT (SELECT count(*) FROM booking_appointment), (SELECT count(*) FROM booking_patient),"
        " (SELECT count(*) FROM booking_visitevent), (SELECT count(*) FROM notifications_message)"
    )
    before = rows(database, counts)
    output = first.read_text()
    assert "demo loaded:" in output and "login scheduler / scheduler-demo-password" in output
    assert f"API        http://127.0.0.1:{port}/api/v1/" in output

    with make_run(tmp_path, port, second):
        pass  # up, with its worker ready: what load_demo would have done is done

    assert rows(database, "SELECT status FROM booking_appointment WHERE id = ?", visit_id) == [("cancelled",)]
    assert rows(database, counts) == before  # no visit booked, no event, no text
    output = second.read_text()
    assert "demo skipped: the database already holds data" in output
    assert "demo-password" not in output


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
