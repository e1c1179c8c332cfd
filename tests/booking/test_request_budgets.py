"""What a search costs the database over HTTP with a real token: the token, its user and the
user's roles in one query, the type and the tier in another, the calendar in a third (one round
trip of prepared statements on PostgreSQL). Logging out and losing a role still take effect on
the very next request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from locations.models import Block
from practice.logins import token_create
from practice.models import IdempotencyKey
from practice.permissions import SCHEDULERS
from tests.factories import (
    BOOKING_NOW,
    AppointmentTypeFactory,
    BlockFactory,
    BookablePractice,
    LocationFactory,
    OpeningHoursFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 2, 26, 18, 0, tzinfo=dt.UTC)
CALENDAR_QUERIES = 1 if connection.vendor == "postgresql" else 4
# The token with its user and roles, the type with the tier, the calendar.
ONE_SURGEON_DAY_QUERIES = 2 + CALENDAR_QUERIES


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def block() -> Block:
    location = LocationFactory(timezone="America/Chicago")
    for weekday in range(7):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
    AppointmentTypeFactory(code="follow-up", duration_minutes=30)
    return BlockFactory(location=location, weekday=0, start=dt.time(8), end=dt.time(12))


@pytest.fixture
def token_client(scheduler: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=scheduler).secret}")
    return client


def one_surgeon_day(client: APIClient, block: Block, **params: object) -> Any:
    return client.get(
        "/api/v1/slots/",
        {
            "appointment_type": "follow-up",
            "tier": "standard",
            "surgeon": block.surgeon_id,
            "start": "2027-03-01",
            "end": "2027-03-01",
            **params,
        },
    )


def test_a_one_surgeon_day_search_with_a_token_takes_three_round_trips_on_postgresql(
    token_client: APIClient, block: Block, django_assert_num_queries: Callable[..., Any]
) -> None:
    one_surgeon_day(token_client, block)  # the connection's first search prepares its statements
    with django_assert_num_queries(ONE_SURGEON_DAY_QUERIES):
        response = one_surgeon_day(token_client, block)
    assert response.status_code == 200 and response.json()


def test_the_earliest_search_with_a_token_reads_the_token_and_roles_in_one_query(
    token_client: APIClient, block: Block, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    # A token, the type with the tier, then at most the widening steps' calendars.
    with django_assert_max_num_queries(2 + 2 * CALENDAR_QUERIES):
        response = token_client.get(
            "/api/v1/slots/earliest/", {"appointment_type": "follow-up", "tier": "urgent", "limit": 3}
        )
    assert response.status_code == 200 and len(response.json()["slots"]) == 3


def test_a_scheduler_removed_from_the_role_is_refused_on_the_next_request(
    token_client: APIClient, scheduler: User, block: Block
) -> None:
    assert one_surgeon_day(token_client, block).status_code == 200
    scheduler.groups.remove(Group.objects.get(name=SCHEDULERS))
    assert one_surgeon_day(token_client, block).status_code == 403


def test_a_logged_out_token_is_refused_on_the_next_request(token_client: APIClient, block: Block) -> None:
    assert one_surgeon_day(token_client, block).status_code == 200
    assert token_client.post("/api/v1/auth/logout/").status_code == 204
    assert one_surgeon_day(token_client, block).status_code == 401


def test_a_search_for_an_unknown_surgeon_is_still_a_400_naming_it(
    token_client: APIClient, block: Block
) -> None:
    response = one_surgeon_day(token_client, block, surgeon=block.surgeon_id + 1000)
    assert response.status_code == 400
    assert "surgeon" in response.json()["error"]["fields"]


@pytest.mark.postgresql
def test_a_search_runs_only_statements_prepared_once_per_connection(
    token_client: APIClient, block: Block
) -> None:
    one_surgeon_day(token_client, block)  # the connection's first search prepares them
    with CaptureQueriesContext(connection) as second:
        one_surgeon_day(token_client, block, start="2027-03-08", end="2027-03-08")
    statements = [query["sql"] for query in second.captured_queries]
    assert len(statements) == 3  # the token with its roles, the type with the tier, the calendar
    assert all(sql.startswith("EXECUTE practice_prepared_") and "PREPARE" not in sql for sql in statements)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'practice_prepared_%%'")
        assert cursor.fetchone()[0] >= 6  # one statement each for two reads, four for the calendar


def booking_body(practice: BookablePractice, hour: int) -> dict[str, Any]:
    return {
        "patient": practice.patient.id,
        "surgeon": practice.surgeon.id,
        "location": practice.location.id,
        "appointment_type": practice.visit.code,
        "tier": "standard",
        "start": practice.at(hour).isoformat(),
    }


def test_a_keyed_booking_costs_at_most_three_statements_more_than_an_unkeyed_one(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    scheduler_client.post("/api/v1/appointments/", booking_body(bookable, 8))  # warm: prepared statements
    with CaptureQueriesContext(connection) as unkeyed:
        assert scheduler_client.post("/api/v1/appointments/", booking_body(bookable, 9)).status_code == 201
    with CaptureQueriesContext(connection) as keyed:
        response = scheduler_client.post(
            "/api/v1/appointments/", booking_body(bookable, 10), HTTP_IDEMPOTENCY_KEY="one"
        )
    assert response.status_code == 201
    assert len(keyed.captured_queries) <= len(unkeyed.captured_queries) + 3
    assert not any(query["sql"].startswith("DELETE") for query in keyed.captured_queries)


def test_a_retry_after_the_key_expired_acts_afresh_without_a_purge(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    first = scheduler_client.post(
        "/api/v1/appointments/", booking_body(bookable, 9), HTTP_IDEMPOTENCY_KEY="k"
    )
    with time_machine.travel(BOOKING_NOW + dt.timedelta(hours=25), tick=False):
        again = scheduler_client.post(
            "/api/v1/appointments/", booking_body(bookable, 10), HTTP_IDEMPOTENCY_KEY="k"
        )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] != first.json()["id"]
    assert IdempotencyKey.objects.get(key="k").response_body["id"] == again.json()["id"]
