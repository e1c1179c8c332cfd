"""Settings are read in a fresh interpreter each time: they are module-level and read once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Variables the test process itself set (test_settings) must not leak into these runs.
PROJECT_VARIABLES = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMS_BACKEND", "ALLOWED_HOSTS", "DEBUG"}


def load_settings(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in PROJECT_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "practice.settings", "VAR_DIR": str(tmp_path), **variables})
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_with_no_settings_but_debug_it_runs_on_sqlite_and_the_filesystem_broker(tmp_path: Path) -> None:
    result = load_settings(tmp_path, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]


def test_database_and_redis_urls_switch_to_postgresql_and_redis(tmp_path: Path) -> None:
    result = load_settings(
        tmp_path,
        DEBUG="true",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/practice",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://127.0.0.1:6379/0"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = load_settings(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "localhost"),
        ("SLOT_GRID_MINUTES", "fifteen"),
        ("HOLD_MINUTES", "five"),
        ("HOLD_MINUTES", "0"),
        ("FHIR_PUBLISH_DAYS", "90"),
        ("SMS_BACKEND", "carrier-pigeon"),
        ("LOG_LEVEL", "LOUD"),
        ("PHONE_REGION", "USA"),
        ("PHONE_REGION", "XX"),
        ("AUTH_TOKEN_IDLE_HOURS", "twelve"),
        ("AUTH_TOKEN_IDLE_HOURS", "0"),
        ("AUTH_TOKEN_MAX_DAYS", "-1"),
        ("TRUSTED_PROXY_COUNT", "-1"),
        ("TRUSTED_PROXY_COUNT", "one"),
        ("TRUST_X_FORWARDED_PROTO", "maybe"),
        ("SECURE_SSL_REDIRECT", "sometimes"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("SECURE_HSTS_SECONDS", "-1"),
        ("SESSION_COOKIE_SECURE", "please"),
    ],
)
def test_a_malformed_value_fails_with_a_message_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = load_settings(tmp_path, SECRET_KEY="x", **{"SMS_BACKEND": "console", variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_a_malformed_connection_age_for_postgresql_names_the_variable(tmp_path: Path) -> None:
    result = load_settings(
        tmp_path, SECRET_KEY="x", DATABASE_URL="postgres://postgres@127.0.0.1/x", CONN_MAX_AGE="forever"
    )
    assert result.returncode != 0
    assert "CONN_MAX_AGE" in result.stderr.strip().splitlines()[-1]


def test_production_refuses_to_start_without_saying_how_texts_are_sent(tmp_path: Path) -> None:
    result = load_settings(tmp_path, SECRET_KEY="x")
    assert result.returncode != 0
    assert "SMS_BACKEND is required" in result.stderr.strip().splitlines()[-1]


def test_the_twilio_backend_refuses_to_start_without_its_keys(tmp_path: Path) -> None:
    result = load_settings(tmp_path, SECRET_KEY="x", SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC123")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "TWILIO_AUTH_TOKEN" in last_line
    assert "TWILIO_FROM_NUMBER" in last_line


def test_the_phone_region_is_the_default_region_of_phone_numbers(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in PROJECT_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "practice.settings", "VAR_DIR": str(tmp_path), "DEBUG": "true"})
    code = "from django.conf import settings; print(settings.PHONENUMBER_DEFAULT_REGION)"
    run = [sys.executable, "-c", code]
    default = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    canada = subprocess.run(
        run, cwd=ROOT, env={**env, "PHONE_REGION": "CA"}, capture_output=True, text=True, timeout=60
    )
    assert (default.stdout.strip(), canada.stdout.strip()) == ("US", "CA")


def test_a_malformed_phone_region_says_what_is_expected(tmp_path: Path) -> None:
    result = load_settings(tmp_path, SECRET_KEY="x", SMS_BACKEND="console", PHONE_REGION="usa")
    assert result.returncode != 0
    assert (
        "PHONE_REGION is malformed: expected a 2-letter region such as US or CA, got 'usa'."
        in (result.stderr.strip().splitlines()[-1])
    )


# The production environment README.md documents for a deployment behind a TLS-terminating proxy.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "q8Vt2xLw9Rk4pZn7Hc3Jm6Yb1Fs5Dg0Ae8Kr2Tu7Wo4Xi9Lp3Nv6Qz1Sy5Bh0Gc",
    "ALLOWED_HOSTS": "practice.example",
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "an-auth-token",
    "TWILIO_FROM_NUMBER": "+13125550100",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def manage(tmp_path: Path, *arguments: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in PROJECT_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "practice.settings", "VAR_DIR": str(tmp_path), **variables})
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_environment_passes_the_deployment_checks(tmp_path: Path) -> None:
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATABASE_URL=settings.DATABASE_URL,
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr


def test_without_the_hsts_subdomain_flags_the_deployment_checks_warn(tmp_path: Path) -> None:
    variables = {**PRODUCTION, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false"}
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **variables)
    assert result.returncode != 0
    assert "security.W005" in result.stderr


SECURITY = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
    " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"DEBUG": "true"}, "False 0 False False None"),
        (
            {"SECRET_KEY": "x", "SMS_BACKEND": "console"},
            "True 31536000 True True None",
        ),
        (
            {"SECRET_KEY": "x", "SMS_BACKEND": "console", "TRUST_X_FORWARDED_PROTO": "yes"},
            "True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https')",
        ),
        (
            {
                "SECRET_KEY": "x",
                "SMS_BACKEND": "console",
                "SECURE_SSL_REDIRECT": "0",
                "SECURE_HSTS_SECONDS": "60",
            },
            "False 60 True True None",
        ),
    ],
)
def test_tls_settings_are_on_in_production_and_off_in_debug(
    tmp_path: Path, variables: dict[str, str], expected: str
) -> None:
    env = {key: value for key, value in os.environ.items() if key not in PROJECT_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "practice.settings", "VAR_DIR": str(tmp_path), **variables})
    result = subprocess.run(
        [sys.executable, "-c", SECURITY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.postgresql
@pytest.mark.django_db
def test_the_test_database_is_this_runs_own() -> None:
    from django.db import connection

    # Two suites on one PostgreSQL server (two worktrees, two CI jobs) must not share one.
    name = connection.settings_dict["NAME"]
    configured = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    assert name.startswith(f"test_{configured}_{os.getpid()}_")
    assert name == connection.creation._get_test_db_name()
