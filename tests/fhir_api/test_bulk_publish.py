"""SMART Scheduling Links: a public manifest and three NDJSON files whose lines are valid FHIR
resources referring to each other; ETags answer 304 until something changes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from booking.services import hold_create
from tests.factories import AppointmentFactory, BlockFactory, BookablePractice, tier
from tests.fhir_api.conftest import FHIR, valid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def manifest(client: APIClient) -> tuple[dict[str, Any], str]:
    response = client.get(f"{FHIR}/$bulk-publish")
    assert response.status_code == 200, response.content
    return response.json(), response["ETag"]


def lines(client: APIClient, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+ndjson"
    return [valid(json.loads(line)) for line in response.content.decode().splitlines()]


def files(client: APIClient) -> dict[str, list[dict[str, Any]]]:
    body, _ = manifest(client)
    return {output["type"]: lines(client, output["url"]) for output in body["output"]}


def test_the_manifest_and_files_are_public_and_reference_each_other(
    bookable: BookablePractice, anonymous_client: APIClient
) -> None:
    body, _ = manifest(anonymous_client)
    assert [output["type"] for output in body["output"]] == ["Location", "Schedule", "Slot"]
    assert dt.datetime.fromisoformat(body["transactionTime"]).tzinfo is not None
    published = files(anonymous_client)
    locations = {f"Location/{location['id']}" for location in published["Location"]}
    schedules = {f"Schedule/{schedule['id']}" for schedule in published["Schedule"]}
    assert locations == {f"Location/{bookable.location.id}"}
    for schedule in published["Schedule"]:
        assert {actor["reference"] for actor in schedule["actor"]} & locations
    assert published["Slot"]
    for slot in published["Slot"]:
        assert slot["schedule"]["reference"] in schedules
        assert slot["status"] == "free"


def test_published_slots_carry_the_booking_phone(
    bookable: BookablePractice, anonymous_client: APIClient
) -> None:
    with override_settings(FHIR_BOOKING_PHONE="+13125550199"):
        slot = files(anonymous_client)["Slot"][0]
    assert slot["extension"] == [
        {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone",
            "valueString": "+13125550199",
        }
    ]


def test_only_free_non_reserved_standard_slots_are_published(
    bookable: BookablePractice, anonymous_client: APIClient
) -> None:
    BlockFactory(
        surgeon=bookable.surgeon,
        location=bookable.location,
        weekday=1,
        start=dt.time(8),
        end=dt.time(12),
        reserved_for_tier=tier("urgent"),
        release_hours_before=24,
    )
    AppointmentFactory(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        start=bookable.at(8),
    )
    hold_create(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        tier=tier("standard"),
        start=bookable.at(9),
    )
    starts = {dt.datetime.fromisoformat(slot["start"]) for slot in files(anonymous_client)["Slot"]}
    assert bookable.at(8, 30) in starts
    assert bookable.at(8) not in starts
    assert bookable.at(9) not in starts
    assert not any(start.weekday() == 1 for start in starts)  # the urgent Tuesday block


def test_an_unchanged_publication_answers_304_and_a_booking_changes_it(
    bookable: BookablePractice, anonymous_client: APIClient, scheduler_client: APIClient
) -> None:
    _, etag = manifest(anonymous_client)
    assert anonymous_client.get(f"{FHIR}/$bulk-publish", HTTP_IF_NONE_MATCH=etag).status_code == 304
    slots_url = f"{FHIR}/$bulk-publish/slots.ndjson"
    assert anonymous_client.get(slots_url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    booked = scheduler_client.post(
        "/api/v1/appointments/",
        {
            "patient": bookable.patient.id,
            "surgeon": bookable.surgeon.id,
            "location": bookable.location.id,
            "appointment_type": bookable.visit.code,
            "tier": "standard",
            "start": bookable.at(9).isoformat(),
        },
    )
    assert booked.status_code == 201
    changed = anonymous_client.get(slots_url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert f'"start":"{bookable.at(9).isoformat()}"' not in changed.content.decode()


def test_a_new_block_changes_the_publication(bookable: BookablePractice, anonymous_client: APIClient) -> None:
    _, etag = manifest(anonymous_client)
    BlockFactory(surgeon=bookable.surgeon, location=bookable.location, weekday=2)
    assert anonymous_client.get(f"{FHIR}/$bulk-publish", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_an_unknown_file_is_a_404(anonymous_client: APIClient) -> None:
    assert anonymous_client.get(f"{FHIR}/$bulk-publish/patients.ndjson").status_code == 404
