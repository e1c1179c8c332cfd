"""GET /api/v1/slots/ in pages: `limit` gives the first slots and a Link header to the next page;
following the links walks exactly the slots of the unpaged answer, in its order."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    BlockFactory,
    LocationFactory,
    OpeningHoursFactory,
    SurgeonFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 2, 26, 18, 0, tzinfo=dt.UTC)
SEARCH = {"appointment_type": "follow-up", "start": "2027-03-01", "end": "2027-03-09"}
NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


@pytest.fixture(autouse=True)
def practice() -> Iterator[None]:
    """Three surgeons at two locations in two zones, sharing start times, some slots booked."""
    with time_machine.travel(NOW, tick=False):
        AppointmentTypeFactory(code="follow-up", duration_minutes=30)
        for zone in ("America/Chicago", "America/New_York"):
            location = LocationFactory(timezone=zone)
            for weekday in range(7):
                OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
            for _ in range(3):
                surgeon = SurgeonFactory()
                for weekday in (0, 2):
                    BlockFactory(
                        surgeon=surgeon, location=location, weekday=weekday, start=dt.time(8), end=dt.time(10)
                    )
                AppointmentFactory(
                    surgeon=surgeon, location=location, start=dt.datetime(2027, 3, 1, 15, tzinfo=dt.UTC)
                )
        yield


def walk(client: APIClient, limit: int) -> list[list[dict[str, Any]]]:
    pages = []
    response = client.get("/api/v1/slots/", {**SEARCH, "limit": limit})
    while True:
        assert response.status_code == 200, response.json()
        pages.append(response.json())
        link = response.headers.get("Link")
        if link is None:
            return pages
        match = NEXT.match(link)
        assert match is not None
        response = client.get(match["url"])


@pytest.mark.parametrize("limit", [1, 4, 7, 1000])
def test_following_the_next_links_walks_every_slot_once_in_order(
    scheduler_client: APIClient, limit: int
) -> None:
    everything = scheduler_client.get("/api/v1/slots/", SEARCH).json()
    pages = walk(scheduler_client, limit)
    assert [slot for page in pages for slot in page] == everything
    assert len(everything) > 40
    assert all(len(page) == limit for page in pages[:-1]) and len(pages[-1]) <= limit


def test_a_page_that_is_not_full_has_no_next_link(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/slots/", {**SEARCH, "limit": 1000})
    assert "Link" not in response.headers


def test_without_a_limit_the_answer_is_the_whole_list_as_before(scheduler_client: APIClient) -> None:
    response = scheduler_client.get("/api/v1/slots/", SEARCH)
    assert isinstance(response.json(), list) and "Link" not in response.headers


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"after": "yesterday"}, "after"),
        ({"after": "1.2"}, "after"),
    ],
)
def test_a_bad_limit_or_cursor_is_a_400_naming_it(
    scheduler_client: APIClient, params: dict[str, Any], field: str
) -> None:
    response = scheduler_client.get("/api/v1/slots/", {**SEARCH, **params})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
