"""POST /api/v1/reports/simulate/ and GET .../{id}/: administrators ask for an access simulation,
a worker runs it once, the result and its chart are read back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from booking.models import SimulationRun, SimulationStatus
from booking.services.simulations import simulation_execute
from tests.factories import AppointmentTypeFactory, BlockFactory, LocationFactory, OpeningHoursFactory
from workers.celery import app as celery_app

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/simulate/"
ASKED = {
    "weeks": 2,
    "warmup_weeks": 0,
    "arrivals_per_week": 6,
    "seed": 3,
    "policies": ["none", "reserve:25:72"],
}


@pytest.fixture(autouse=True)
def practice() -> None:
    location = LocationFactory(timezone="America/Chicago")
    for weekday in range(5):
        OpeningHoursFactory(location=location, weekday=weekday)
    AppointmentTypeFactory(code="new-consultation", duration_minutes=60)
    BlockFactory(location=location, weekday=0)
    BlockFactory(location=location, weekday=2)


@pytest.fixture
def celery_inline() -> Iterator[None]:
    """The task enqueued on commit runs at once, in this process."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


def test_an_administrator_asks_for_a_simulation_and_reads_its_result_and_chart(
    admin_client_api: APIClient, celery_inline: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asked = admin_client_api.post(URL, ASKED, format="json")
    assert asked.status_code == 202, asked.content
    assert asked.json()["status"] == "queued"

    shown = admin_client_api.get(f"{URL}{asked.json()['id']}/")

    body = shown.json()
    assert (shown.status_code, body["status"], body["progress"]) == (200, "done", 100)
    assert [policy["policy"] for policy in body["result"]["policies"]] == ["none", "reserve:25:72"]
    assert set(body["result"]["policies"][0]["tiers"]) == {"urgent", "standard"}
    assert "in window" in body["result"]["table"]
    chart = admin_client_api.get(body["chart"])
    assert chart.status_code == 200
    assert chart["Content-Type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG")


def test_a_scheduler_may_neither_ask_for_nor_read_a_simulation(scheduler_client: APIClient) -> None:
    run = SimulationRun.objects.create(inputs={})

    assert scheduler_client.post(URL, ASKED, format="json").status_code == 403
    assert scheduler_client.get(f"{URL}{run.pk}/").status_code == 403
    assert scheduler_client.get(f"{URL}{run.pk}/chart/").status_code == 403
    assert not SimulationRun.objects.exclude(pk=run.pk).exists()


def test_an_anonymous_client_is_asked_to_log_in(anonymous_client: APIClient) -> None:
    run = SimulationRun.objects.create(inputs={})

    assert anonymous_client.post(URL, ASKED, format="json").status_code == 401
    assert anonymous_client.get(f"{URL}{run.pk}/").status_code == 401


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"policies": ["reserve:20"]}, "policies"),
        ({"tier_mix": {"routine": 1}}, "tier_mix"),
        ({"utilisation": 90}, "utilisation"),
        ({"weeks": 0}, "weeks"),
    ],
)
def test_a_malformed_request_is_refused_naming_the_field(
    admin_client_api: APIClient, changes: dict[str, Any], field: str
) -> None:
    response = admin_client_api.post(URL, {**ASKED, **changes}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not SimulationRun.objects.exists()


def test_a_retried_request_with_its_idempotency_key_asks_for_one_simulation(
    admin_client_api: APIClient,
) -> None:
    first = admin_client_api.post(URL, ASKED, format="json", HTTP_IDEMPOTENCY_KEY="simulate-1")
    again = admin_client_api.post(URL, ASKED, format="json", HTTP_IDEMPOTENCY_KEY="simulate-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert SimulationRun.objects.count() == 1


def test_a_simulation_delivered_twice_runs_once() -> None:
    run = SimulationRun.objects.create(inputs={**ASKED, "utilisation": None})

    assert simulation_execute(run_id=run.pk) is True
    finished = SimulationRun.objects.get(pk=run.pk)
    assert simulation_execute(run_id=run.pk) is False

    again = SimulationRun.objects.get(pk=run.pk)
    assert (again.status, again.finished_at, again.result) == (
        SimulationStatus.DONE,
        finished.finished_at,
        finished.result,
    )


def test_a_worker_lost_mid_run_leaves_a_run_another_may_take_over_later() -> None:
    run = SimulationRun.objects.create(
        inputs={**ASKED, "utilisation": None},
        status=SimulationStatus.RUNNING,
        started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )

    assert simulation_execute(run_id=run.pk) is True
    assert SimulationRun.objects.get(pk=run.pk).status == SimulationStatus.DONE


def test_a_run_whose_inputs_no_longer_fit_the_practice_fails_with_its_reason() -> None:
    run = SimulationRun.objects.create(inputs={**ASKED, "utilisation": None, "appointment_type": "gone"})

    simulation_execute(run_id=run.pk)

    failed = SimulationRun.objects.get(pk=run.pk)
    assert failed.status == SimulationStatus.FAILED
    assert "appointment type" in failed.error
