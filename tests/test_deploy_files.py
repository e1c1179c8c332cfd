"""The production shape is described by docker-compose.yml; there is no Docker engine here to run it."""

from __future__ import annotations

import io
import json
import logging
import re
import shlex
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import yaml
from gunicorn.config import Config
from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parents[1]


def compose_services() -> dict[str, dict]:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def readme_services() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z]+)` \|", section, flags=re.MULTILINE))


def test_every_service_the_readme_names_is_in_docker_compose() -> None:
    named = readme_services()
    assert named >= {"postgres", "redis", "web", "worker", "beat"}
    assert named <= set(compose_services())


def test_every_compose_service_has_a_healthcheck() -> None:
    for name, service in compose_services().items():
        assert "test" in service.get("healthcheck", {}), name


def test_compose_keeps_secrets_out_of_the_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${SECRET_KEY:?" in text and "${POSTGRES_PASSWORD:?" in text
    assert compose_services()["postgres"]["image"] == "postgres:16"
    assert compose_services()["redis"]["image"] == "redis:7"


def test_the_readme_opens_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().splitlines()[:8]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)


def gunicorn_arguments() -> dict[str, list[str]]:
    """gunicorn's command line in the image's CMD and in docker-compose's web service."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    script = shlex.split(compose_services()["web"]["command"])[-1]
    # One line of the shell script: flags on a line of their own would be a command of their own.
    web = next(line for line in script.splitlines() if "gunicorn" in line)
    return {"Dockerfile": json.loads(cmd.removeprefix("CMD ")), "docker-compose.yml": shlex.split(web)}


def rendered_access_line(log_format: str, path: str, query: str, logger_class: str | None = None) -> str:
    """What gunicorn itself writes for one request, through its Logger (or the one configured) and atoms."""
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", log_format)
    if logger_class:
        config.set("logger_class", logger_class)
    gunicorn_logger = config.logger_class(config) if logger_class else Logger(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    gunicorn_logger.access_log.handlers = [handler]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?{query}",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://practice.example{path}?{query}",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("Content-Type", "application/json")])
    request = SimpleNamespace(headers=[("HOST", "practice.example")])
    gunicorn_logger.access(response, request, environ, timedelta(milliseconds=42))
    return stream.getvalue()


def test_gunicorn_access_log_leaves_out_query_strings() -> None:
    # A patient search's query is a phone number: it must not reach the access log.
    formats = set()
    for source, arguments in gunicorn_arguments().items():
        assert arguments[arguments.index("--access-logfile") + 1] == "-", source
        formats.add(arguments[arguments.index("--access-logformat") + 1])
    assert len(formats) == 1, formats
    (log_format,) = formats
    line = rendered_access_line(log_format, "/api/v1/patients/", "search=%2B13125550142")
    assert line.strip() == "GET /api/v1/patients/ 200 512 42ms"
    assert "search" not in line and "13125550142" not in line


def test_gunicorn_access_log_leaves_out_a_visit_page_token() -> None:
    # A visit page's link opens the patient's visit to whoever holds it: it is a key, not a path.
    setups = set()
    for source, arguments in gunicorn_arguments().items():
        assert "--logger-class" in arguments, source
        setups.add(
            (
                arguments[arguments.index("--logger-class") + 1],
                arguments[arguments.index("--access-logformat") + 1],
            )
        )
    assert len(setups) == 1, setups
    ((logger_class, log_format),) = setups
    line = rendered_access_line(log_format, "/v/2s-k3J9xQ_a0bZc/times", "", logger_class)
    assert line.strip() == "GET /v/<token>/times 200 512 42ms"
    assert "k3J9xQ_a0bZc" not in line
