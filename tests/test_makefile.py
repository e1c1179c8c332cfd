"""What `make run` decides before it starts anything, read from `make -n` (nothing runs)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.processes import ROOT


def dry_run(*arguments: str, **environment: str) -> str:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DEMO", "PORT"}}
    env.pop("MAKEFLAGS", None)
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *arguments, "STAMP="],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.parametrize("database_url", ["", "sqlite:////tmp/practice/db.sqlite3"])
def test_make_run_loads_the_demo_on_sqlite(database_url: str) -> None:
    assert 'case "1" in' in dry_run("run", DATABASE_URL=database_url)


def test_make_run_leaves_the_demo_out_on_postgresql() -> None:
    assert 'case "0" in' in dry_run("run", DATABASE_URL="postgres://postgres@127.0.0.1:5432/practice")


def test_make_run_loads_the_demo_on_postgresql_when_asked() -> None:
    output = dry_run("run", DATABASE_URL="postgres://postgres@127.0.0.1:5432/practice", DEMO="1")
    assert 'case "1" in' in output


def test_make_run_prints_the_port_it_is_given_and_hands_it_to_honcho() -> None:
    output = dry_run("run", PORT="8001")
    assert "API        http://127.0.0.1:8001/api/v1/" in output
    assert "--port 8001" in output


def test_make_demo_refuses_a_database_holding_data() -> None:
    assert "load_demo --refuse-if-not-empty" in dry_run("demo")


@pytest.mark.parametrize("target", ["run", "test", "test-sqlite"])
def test_make_compiles_the_translations_with_python_alone(target: str) -> None:
    assert "-m practice.catalogs" in dry_run(target)
