"""The cast: an administrator, a scheduler and an anonymous client, each with an API client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from practice.catalogs import catalogs_compile
from tests.factories import (
    BOOKING_NOW,
    AdministratorFactory,
    BookablePractice,
    SchedulerFactory,
    bookable_practice,
)


def pytest_configure(config: pytest.Config) -> None:
    # `make test` compiles the catalogs; a bare `pytest` after editing a .po gets them too.
    catalogs_compile()


@pytest.fixture
def administrator(db: None) -> User:
    return AdministratorFactory(username="alice-admin")


@pytest.fixture
def scheduler(db: None) -> User:
    return SchedulerFactory(username="sam-scheduler")


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_client_api(administrator: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(administrator)
    return client


@pytest.fixture
def scheduler_client(scheduler: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(scheduler)
    return client


@pytest.fixture
def bookable(db: None) -> Iterator[BookablePractice]:
    """A practice open for booking, with the clock at BOOKING_NOW (and ticking)."""
    with time_machine.travel(BOOKING_NOW, tick=True):
        yield bookable_practice()
