"""The production shape is described by docker-compose.yml; there is no Docker engine here to run it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

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
