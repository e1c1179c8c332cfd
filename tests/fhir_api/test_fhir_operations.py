"""IHE ITI Scheduling's operations: $find agrees with /api/v1/slots/, $hold keeps a proposed
appointment, $book books it (or cancels a visit); refusals are OperationOutcomes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentStatus, Hold, Referral, ReferralStatus
from booking.services import referral_create
from fhir_api.resources import REFERRAL_EXTENSION
from tests.factories import BlockFactory, BookablePractice, tier
from tests.fhir_api.conftest import FHIR, valid

pytestmark = pytest.mark.django_db


def parameters(**values: Any) -> dict[str, Any]:
    parameter = []
    for name, value in values.items():
        if isinstance(value, dict) and "resourceType" in value:
            parameter.append({"name": name, "resource": value})
        elif isinstance(value, dict):
            parameter.append({"name": name, "valueReference": value})
        else:
            parameter.append({"name": name, "valueString": value})
    return {"resourceType": "Parameters", "parameter": parameter}


def post(
    client: APIClient, operation: str, body: dict[str, Any], status: int = 200, **headers: str
) -> dict[str, Any]:
    response = client.post(
        f"{FHIR}/Appointment/${operation}",
        json.dumps(body),
        content_type="application/fhir+json",
        **headers,
    )
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return valid(response.json())


def find(client: APIClient, practice: BookablePractice, **extra: Any) -> dict[str, Any]:
    values = {"start": "2027-03-08", "end": "2027-03-08", "appointmentType": practice.visit.code, **extra}
    return post(client, "find", parameters(**values))


def test_find_agrees_with_the_slot_search_api(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    BlockFactory(location=bookable.location, weekday=0, start=dt.time(10), end=dt.time(11))
    BlockFactory(
        location=bookable.location,
        weekday=0,
        start=dt.time(13),
        end=dt.time(15),
        reserved_for_tier=tier("urgent"),
        release_hours_before=24,
    )
    for tier_code in (None, "urgent"):
        extra = {"tier": tier_code} if tier_code else {}
        found = find(scheduler_client, bookable, **extra)
        api = scheduler_client.get(
            "/api/v1/slots/",
            {"appointment_type": bookable.visit.code, "start": "2027-03-08", "end": "2027-03-08", **extra},
        ).json()
        proposed = [
            (
                entry["resource"]["participant"][0]["actor"]["reference"],
                entry["resource"]["participant"][1]["actor"]["reference"],
                dt.datetime.fromisoformat(entry["resource"]["start"]),
            )
            for entry in found["entry"]
        ]
        expected = [
            (
                f"Practitioner/{slot['surgeon']}",
                f"Location/{slot['location']}",
                dt.datetime.fromisoformat(slot["start"]),
            )
            for slot in api
        ]
        assert proposed == expected
        assert found["total"] == len(api) > 0
        assert {entry["resource"]["status"] for entry in found["entry"]} == {"proposed"}


def test_find_narrows_to_a_practitioner_and_location(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    BlockFactory(location=bookable.location, weekday=0, start=dt.time(10), end=dt.time(11))
    found = find(
        scheduler_client,
        bookable,
        practitioner={"reference": f"Practitioner/{bookable.surgeon.id}"},
        location={"reference": f"Location/{bookable.location.id}"},
        _count="2",
    )
    assert found["total"] == 15
    assert len(found["entry"]) == 2
    assert {entry["resource"]["participant"][0]["actor"]["reference"] for entry in found["entry"]} == {
        f"Practitioner/{bookable.surgeon.id}"
    }


def proposals(bundle: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (
            entry["resource"]["participant"][0]["actor"]["reference"],
            entry["resource"]["participant"][1]["actor"]["reference"],
            entry["resource"]["start"],
        )
        for entry in bundle.get("entry", [])
    ]


def test_walking_finds_next_links_gives_the_same_proposals_as_one_big_page(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    BlockFactory(location=bookable.location, weekday=0, start=dt.time(10), end=dt.time(11))
    everything = find(scheduler_client, bookable, _count="500")
    assert {link["relation"] for link in everything["link"]} == {"self"}
    page = find(scheduler_client, bookable, _count="4")
    walked, pages = proposals(page), 1
    while next_url := {link["relation"]: link["url"] for link in page["link"]}.get("next"):
        response = scheduler_client.get(next_url)
        assert response.status_code == 200, response.content
        page = valid(response.json())
        assert len(page["entry"]) <= 4
        assert page["total"] == everything["total"]
        walked += proposals(page)
        pages += 1
    assert walked == proposals(everything)
    assert pages == -(-everything["total"] // 4) > 1
    assert {link["relation"] for link in page["link"]} == {"self", "previous"}


def test_finds_next_links_keep_the_practitioner_location_and_tier(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    other = BlockFactory(location=bookable.location, weekday=0, start=dt.time(8), end=dt.time(12))
    chosen = {
        "practitioner": {"reference": f"Practitioner/{bookable.surgeon.id}"},
        "location": {"reference": f"Location/{bookable.location.id}"},
        "tier": "urgent",
    }
    first = find(scheduler_client, bookable, _count="5", **chosen)
    following = {link["relation"]: link["url"] for link in first["link"]}["next"]
    second = valid(scheduler_client.get(following).json())
    assert second["total"] == first["total"]
    assert proposals(second) and not set(proposals(first)) & set(proposals(second))
    practitioners = {practitioner for practitioner, _, _ in proposals(first) + proposals(second)}
    assert practitioners == {f"Practitioner/{bookable.surgeon.id}"}
    assert f"Practitioner/{other.surgeon_id}" not in practitioners
    assert {entry["resource"]["extension"][0]["valueCode"] for entry in second["entry"]} == {"urgent"}


def test_find_needs_a_start_and_an_end(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    body = post(
        scheduler_client, "find", parameters(end="2027-03-08", appointmentType=bookable.visit.code), 400
    )
    assert body["issue"][0]["expression"] == ["start"]
    assert body["issue"][0]["code"] == "invalid"


def proposed(client: APIClient, practice: BookablePractice, start: dt.datetime) -> dict[str, Any]:
    for entry in find(client, practice)["entry"]:
        if dt.datetime.fromisoformat(entry["resource"]["start"]) == start:
            return entry["resource"]
    raise AssertionError(f"{start} was not proposed")


def with_patient(appointment: dict[str, Any], practice: BookablePractice) -> dict[str, Any]:
    patient = {"actor": {"reference": f"Patient/{practice.patient.id}"}, "status": "accepted"}
    return {**appointment, "participant": [patient, *appointment["participant"]]}


def test_hold_then_book_then_read_the_appointment(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = proposed(scheduler_client, bookable, bookable.at(9))
    held = post(scheduler_client, "hold", parameters(**{"appt-resource": with_patient(offer, bookable)}))
    assert held["status"] == "pending"
    assert held["id"].startswith("hold-")
    assert bookable.at(9) not in [
        dt.datetime.fromisoformat(entry["resource"]["start"])
        for entry in find(scheduler_client, bookable)["entry"]
    ]
    booked = post(scheduler_client, "book", parameters(**{"appt-resource": held}), 201)
    assert booked["status"] == "booked"
    assert not Hold.objects.exists()
    read = scheduler_client.get(f"{FHIR}/Appointment/{booked['id']}").json()
    assert valid(read)["start"] == booked["start"]
    assert read["participant"][0]["actor"]["reference"] == f"Patient/{bookable.patient.id}"


def test_a_hold_without_a_patient_books_with_the_patient_named_at_booking(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    held = post(
        scheduler_client,
        "hold",
        parameters(**{"appt-resource": proposed(scheduler_client, bookable, bookable.at(9))}),
    )
    post(scheduler_client, "book", parameters(**{"appt-resource": with_patient(held, bookable)}), 201)
    assert Appointment.objects.get().patient == bookable.patient


def test_booking_an_expired_hold_is_a_409_operation_outcome(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = with_patient(proposed(scheduler_client, bookable, bookable.at(9)), bookable)
    held = post(scheduler_client, "hold", parameters(**{"appt-resource": offer}))
    expiry = next(ext["valueInstant"] for ext in held["extension"] if ext["url"].endswith("hold-expires"))
    with time_machine.travel(dt.datetime.fromisoformat(expiry) + dt.timedelta(seconds=1)):
        body = post(scheduler_client, "book", parameters(**{"appt-resource": held}), 409)
    assert body["issue"][0]["code"] == "conflict"
    assert body["issue"][0]["details"]["coding"][0]["code"] == "hold_expired"
    assert not Appointment.objects.exists()


def test_a_proposed_appointment_books_directly(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = with_patient(proposed(scheduler_client, bookable, bookable.at(9)), bookable)
    booked = post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 201)
    assert booked["status"] == "booked"
    again = post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 409)
    assert again["issue"][0]["details"]["coding"][0]["code"] == "taken"


def test_book_with_status_cancelled_cancels_the_visit(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = with_patient(proposed(scheduler_client, bookable, bookable.at(9)), bookable)
    booked = post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 201)
    cancelled = post(
        scheduler_client,
        "book",
        parameters(
            **{
                "appt-resource": {
                    **booked,
                    "status": "cancelled",
                    "cancelationReason": {"text": "Feeling better"},
                }
            }
        ),
    )
    assert cancelled["status"] == "cancelled"
    visit = Appointment.objects.get()
    assert (visit.status, visit.cancellation_reason) == (AppointmentStatus.CANCELLED, "Feeling better")


def test_holding_is_idempotent_with_an_idempotency_key(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    body = parameters(**{"appt-resource": proposed(scheduler_client, bookable, bookable.at(9))})
    first = post(scheduler_client, "hold", body, HTTP_IDEMPOTENCY_KEY="portal-7")
    second = post(scheduler_client, "hold", body, HTTP_IDEMPOTENCY_KEY="portal-7")
    assert first["id"] == second["id"]
    assert Hold.objects.count() == 1


def test_holding_a_taken_slot_is_a_409(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    body = parameters(**{"appt-resource": proposed(scheduler_client, bookable, bookable.at(9))})
    post(scheduler_client, "hold", body)
    assert post(scheduler_client, "hold", body, 409)["issue"][0]["code"] == "conflict"


def test_operations_need_a_scheduler(bookable: BookablePractice, anonymous_client: APIClient) -> None:
    body = parameters(start="2027-03-08", end="2027-03-08", appointmentType=bookable.visit.code)
    assert post(anonymous_client, "find", body, 401)["issue"][0]["code"] == "login"
    assert post(anonymous_client, "hold", parameters(), 401)["issue"][0]["code"] == "login"
    assert post(anonymous_client, "book", parameters(), 401)["issue"][0]["code"] == "login"


def test_an_appt_resource_missing_its_practitioner_is_a_400(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = proposed(scheduler_client, bookable, bookable.at(9))
    offer = {**offer, "participant": offer["participant"][1:]}
    body = post(scheduler_client, "hold", parameters(**{"appt-resource": offer}), 400)
    assert body["issue"][0]["expression"] == ["appt-resource.participant"]


def _appointment(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Appointment", **fields}


MALFORMED = [
    ("book", {"resourceType": "Parameters", "parameter": 5}, "parameter"),
    ("book", parameters(**{"appt-resource": _appointment(participant="x")}), "appt-resource.participant"),
    (
        "hold",
        parameters(**{"appt-resource": _appointment(participant=[{"actor": "x"}])}),
        "appt-resource.participant",
    ),
    ("hold", parameters(**{"appt-resource": _appointment(participant=["x"])}), "appt-resource.participant"),
    (
        "find",
        {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "start", "valueString": "2027-03-08"},
                {"name": "end", "valueString": "2027-03-08"},
                {"name": "appointmentType", "valueCodeableConcept": {"coding": ["x"]}},
            ],
        },
        "appointmentType",
    ),
    (
        "find",
        parameters(start="2027-03-08", end="2027-03-08", appointmentType="new\x00visit"),
        "parameter[2].valueString",
    ),
]


@pytest.mark.parametrize(("operation", "body", "element"), MALFORMED)
def test_a_malformed_parameters_body_is_a_400_naming_the_element(
    operation: str, body: dict[str, Any], element: str, scheduler_client: APIClient
) -> None:
    refused = post(scheduler_client, operation, body, 400)
    assert refused["issue"][0]["expression"] == [element]


def test_a_cancelation_reason_that_is_not_a_concept_is_a_400_and_the_visit_stays_booked(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = with_patient(proposed(scheduler_client, bookable, bookable.at(9)), bookable)
    booked = post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 201)
    cancel = {**booked, "status": "cancelled", "cancelationReason": "nope"}
    refused = post(scheduler_client, "book", parameters(**{"appt-resource": cancel}), 400)
    assert refused["issue"][0]["expression"] == ["appt-resource.cancelationReason"]
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_an_extension_that_is_not_an_object_is_a_400_naming_the_extension(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = {**proposed(scheduler_client, bookable, bookable.at(9)), "extension": ["urgent"]}
    refused = post(scheduler_client, "hold", parameters(**{"appt-resource": offer}), 400)
    assert refused["issue"][0]["expression"] == ["appt-resource.extension"]
    assert not Hold.objects.exists()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_FIELD = st.sampled_from(
    ["participant", "extension", "appointmentType", "start", "status", "id", "cancelationReason", "actor"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operation=st.sampled_from(["find", "hold", "book"]),
    name=st.sampled_from(["appt-resource", "start", "end", "appointmentType", "tier", "_count", "parameter"]),
    value=_JSON,
    field=_FIELD,
    nested=_JSON,
)
def test_no_json_shape_makes_an_operation_fail_with_a_server_error(
    operation: str,
    name: str,
    value: Any,
    field: str,
    nested: Any,
    bookable: BookablePractice,
    scheduler_client: APIClient,
) -> None:
    actors = [
        {"actor": {"reference": f"Practitioner/{bookable.surgeon.id}"}},
        {"actor": {"reference": f"Location/{bookable.location.id}"}},
        {"actor": {"reference": f"Patient/{bookable.patient.id}"}},
    ]
    offer = _appointment(
        participant=actors, appointmentType={"coding": [{"code": bookable.visit.code}]}, start="2027-03-08"
    )
    shapes = [
        {"resourceType": "Parameters", "parameter": value},
        {"resourceType": "Parameters", "parameter": [{"name": name, "valueString": value}]},
        {"resourceType": "Parameters", "parameter": [{"name": name, "valueCodeableConcept": value}]},
        parameters(**{"appt-resource": {**offer, field: nested}}),
        parameters(**{"appt-resource": {**offer, "participant": [*actors[:2], {"actor": value}]}}),
        parameters(**{"appt-resource": {**offer, "status": "cancelled", "id": "1", field: nested}}),
    ]
    for body in shapes:
        response = scheduler_client.post(
            f"{FHIR}/Appointment/${operation}", json.dumps(body), content_type="application/fhir+json"
        )
        assert response.status_code < 500, (body, response.content)


def _referral(practice: BookablePractice, received_at: dt.datetime | None = None) -> Referral:
    return referral_create(
        patient=practice.patient,
        tier=tier("standard"),
        appointment_type=practice.visit,
        received_at=received_at,
    )


def test_booking_a_patient_with_one_open_referral_takes_it_out_of_the_queue(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    referral = _referral(bookable)
    offer = with_patient(proposed(scheduler_client, bookable, bookable.at(9)), bookable)
    booked = post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 201)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SCHEDULED
    assert str(referral.appointment_id) == booked["id"]


def test_a_referral_named_by_extension_is_booked_from_and_its_due_date_is_the_window(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    first = _referral(bookable)
    named = _referral(bookable, received_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    offer = with_patient(proposed(scheduler_client, bookable, bookable.at(9)), bookable)
    offer["extension"] = [
        *offer["extension"],
        {"url": REFERRAL_EXTENSION, "valueReference": {"reference": f"ServiceRequest/{named.id}"}},
    ]
    late = post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 409)
    assert late["issue"][0]["details"]["coding"][0]["code"] == "outside_tier_window"
    offer["extension"][-1]["valueReference"]["reference"] = f"ServiceRequest/{first.id}"
    post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 201)
    first.refresh_from_db()
    named.refresh_from_db()
    assert (first.status, named.status) == (ReferralStatus.SCHEDULED, ReferralStatus.NEW)


def test_an_unknown_referral_is_a_400_naming_the_extension(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    offer = with_patient(proposed(scheduler_client, bookable, bookable.at(9)), bookable)
    offer["extension"] = [{"url": REFERRAL_EXTENSION, "valueReference": {"reference": "ServiceRequest/999"}}]
    refused = post(scheduler_client, "book", parameters(**{"appt-resource": offer}), 400)
    assert refused["issue"][0]["expression"] == ["appt-resource.extension"]
    assert not Appointment.objects.exists()
