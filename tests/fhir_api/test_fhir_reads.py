"""FHIR R4 reads and searches: every resource and Bundle validates against the FHIR models, each
search parameter narrows what it says, and errors are OperationOutcomes."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from booking.models import AppointmentStatus
from booking.services import hold_create
from practice.models import AuditEntry
from tests.factories import (
    AppointmentFactory,
    BlockFactory,
    BookablePractice,
    LocationFactory,
    PatientFactory,
    SurgeonFactory,
    tier,
)
from tests.fhir_api.conftest import FHIR, valid

pytestmark = pytest.mark.django_db


def get(client: APIClient, path: str, **query: Any) -> dict[str, Any]:
    response = client.get(f"{FHIR}/{path}", query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return valid(response.json())


def ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def slot_starts(bundle: dict[str, Any]) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(entry["resource"]["start"]) for entry in bundle.get("entry", [])]


MONDAY = {"start": ["ge2027-03-08T08:00:00-06:00", "lt2027-03-08T12:00:00-06:00"]}


def test_the_capability_statement_lists_the_resources_and_operations_served(
    anonymous_client: APIClient,
) -> None:
    statement = get(anonymous_client, "metadata")
    assert statement["fhirVersion"] == "4.0.1"
    served = {resource["type"]: resource for resource in statement["rest"][0]["resource"]}
    assert set(served) == {
        "Location",
        "Practitioner",
        "PractitionerRole",
        "Schedule",
        "Slot",
        "Appointment",
        "Patient",
    }
    assert {operation["name"] for operation in served["Appointment"]["operation"]} == {"find", "hold", "book"}
    assert {param["name"] for param in served["Slot"]["searchParam"]} >= {
        "schedule",
        "schedule.actor",
        "start",
        "status",
        "appointment-type",
        "_count",
    }


def test_a_location_reads_with_its_time_zone(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    location = get(scheduler_client, f"Location/{bookable.location.id}")
    assert location["name"] == bookable.location.name
    assert location["extension"][0]["valueCode"] == "America/Chicago"


def test_locations_search_by_name(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    LocationFactory(name="Northside Spine Center", timezone="America/Chicago")
    assert [
        entry["resource"]["name"] for entry in get(scheduler_client, "Location", name="northside")["entry"]
    ] == ["Northside Spine Center"]


def test_a_surgeon_is_a_practitioner(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    practitioner = get(scheduler_client, f"Practitioner/{bookable.surgeon.id}")
    assert practitioner["name"][0]["family"] == bookable.surgeon.last_name
    found = get(scheduler_client, "Practitioner", name=bookable.surgeon.last_name)
    assert str(bookable.surgeon.id) in ids(found)


def test_schedules_and_roles_are_each_surgeon_at_each_location_of_their_blocks(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    elsewhere = LocationFactory(timezone="America/Chicago")
    BlockFactory(surgeon=bookable.surgeon, location=elsewhere, weekday=2)
    BlockFactory(location=elsewhere, weekday=3)  # another surgeon
    mine = get(scheduler_client, "Schedule", actor=f"Practitioner/{bookable.surgeon.id}")
    assert ids(mine) == [
        f"{bookable.surgeon.id}-{bookable.location.id}",
        f"{bookable.surgeon.id}-{elsewhere.id}",
    ]
    there = get(
        scheduler_client,
        "Schedule",
        actor=[f"Practitioner/{bookable.surgeon.id}", f"Location/{elsewhere.id}"],
    )
    assert ids(there) == [f"{bookable.surgeon.id}-{elsewhere.id}"]
    schedule = get(scheduler_client, f"Schedule/{bookable.surgeon.id}-{bookable.location.id}")
    assert [actor["reference"] for actor in schedule["actor"]] == [
        f"Practitioner/{bookable.surgeon.id}",
        f"Location/{bookable.location.id}",
    ]
    roles = get(scheduler_client, "PractitionerRole", location=f"Location/{elsewhere.id}")
    assert len(roles["entry"]) == 2
    get(scheduler_client, f"PractitionerRole/{bookable.surgeon.id}-{elsewhere.id}")


def test_slots_are_searched_by_schedule_and_start(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bundle = get(
        scheduler_client,
        "Slot",
        schedule=f"Schedule/{bookable.surgeon.id}-{bookable.location.id}",
        **{"appointment-type": bookable.visit.code, **MONDAY},
    )
    assert bundle["total"] == 15  # 30-minute visits from 08:00 to 11:30, on the 15-minute grid
    assert slot_starts(bundle)[0] == bookable.at(8)
    first = bundle["entry"][0]["resource"]
    assert first["status"] == "free"
    assert first["schedule"]["reference"] == f"Schedule/{bookable.surgeon.id}-{bookable.location.id}"
    assert get(scheduler_client, f"Slot/{first['id']}")["start"] == first["start"]


def test_slots_are_searched_by_schedule_actor(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    other = BlockFactory(location=bookable.location, weekday=0, start=dt.time(8), end=dt.time(9)).surgeon
    both = get(scheduler_client, "Slot", **{"appointment-type": bookable.visit.code, **MONDAY})
    theirs = get(
        scheduler_client,
        "Slot",
        **{"appointment-type": bookable.visit.code, "schedule.actor": f"Practitioner/{other.id}", **MONDAY},
    )
    assert (both["total"], theirs["total"]) == (18, 3)
    at_location = get(
        scheduler_client,
        "Slot",
        **{
            "appointment-type": bookable.visit.code,
            "schedule.actor": f"Location/{bookable.location.id}",
            **MONDAY,
        },
    )
    assert at_location["total"] == 18


def test_slot_search_by_date_reads_whole_local_days(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    bundle = get(
        scheduler_client,
        "Slot",
        **{"appointment-type": bookable.visit.code, "start": ["ge2027-03-08", "lt2027-03-09"]},
    )
    assert slot_starts(bundle)[0] == bookable.at(8)
    assert bundle["total"] == 15


def test_slot_search_by_status_serves_only_free_slots(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    query = {"appointment-type": bookable.visit.code, **MONDAY}
    assert get(scheduler_client, "Slot", status="free", **query)["total"] == 15
    assert get(scheduler_client, "Slot", status="busy", **query)["total"] == 0


def test_slot_search_by_appointment_type_sizes_the_slots(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    from tests.factories import AppointmentTypeFactory

    hour = AppointmentTypeFactory(code="new-patient", name="New patient", duration_minutes=60)
    bundle = get(
        scheduler_client,
        "Slot",
        **{"appointment-type": f"urn:practice:appointment-type|{hour.code}", **MONDAY},
    )
    first = bundle["entry"][0]["resource"]
    assert dt.datetime.fromisoformat(first["end"]) - dt.datetime.fromisoformat(
        first["start"]
    ) == dt.timedelta(hours=1)
    assert first["appointmentType"]["coding"][0]["code"] == "new-patient"


def test_a_slot_search_without_an_appointment_type_uses_the_published_type(
    bookable: BookablePractice, scheduler_client: APIClient, settings: Any
) -> None:
    from tests.factories import AppointmentTypeFactory

    hour = AppointmentTypeFactory(code="new-patient", name="New patient", duration_minutes=60)
    settings.FHIR_PUBLISH_APPOINTMENT_TYPE = hour.code
    untyped = get(scheduler_client, "Slot", **MONDAY)
    assert untyped["total"] > 0
    assert ids(untyped) == ids(get(scheduler_client, "Slot", **{"appointment-type": hour.code, **MONDAY}))
    assert {entry["resource"]["appointmentType"]["coding"][0]["code"] for entry in untyped["entry"]} == {
        hour.code
    }
    # Not configured: the shortest active type, as $bulk-publish publishes.
    settings.FHIR_PUBLISH_APPOINTMENT_TYPE = ""
    assert ids(get(scheduler_client, "Slot", **MONDAY)) == ids(
        get(scheduler_client, "Slot", **{"appointment-type": bookable.visit.code, **MONDAY})
    )


def test_a_slot_search_without_a_type_when_the_published_one_is_gone_is_a_400_naming_the_parameter(
    bookable: BookablePractice, scheduler_client: APIClient, settings: Any
) -> None:
    settings.FHIR_PUBLISH_APPOINTMENT_TYPE = "retired-type"
    body = outcome(scheduler_client.get(f"{FHIR}/Slot", MONDAY), 400)
    assert body["issue"][0]["expression"] == ["appointment-type"]


def test_the_capability_statement_documents_the_slot_searchs_default_type(
    anonymous_client: APIClient,
) -> None:
    statement = get(anonymous_client, "metadata")
    slot = next(resource for resource in statement["rest"][0]["resource"] if resource["type"] == "Slot")
    documented = next(param for param in slot["searchParam"] if param["name"] == "appointment-type")
    assert "FHIR_PUBLISH_APPOINTMENT_TYPE" in documented["documentation"]


def test_slot_search_pages_with_count_and_next_links(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    first = get(scheduler_client, "Slot", _count=3, **{"appointment-type": bookable.visit.code, **MONDAY})
    assert len(first["entry"]) == 3
    assert first["total"] == 15
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links
    second = scheduler_client.get(links["next"]).json()
    assert slot_starts(second)[0] == bookable.at(8, 45)
    assert {link["relation"] for link in valid(second)["link"]} == {"self", "next", "previous"}


def test_slot_search_hides_held_and_booked_slots(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
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
    starts = slot_starts(get(scheduler_client, "Slot", **{"appointment-type": bookable.visit.code, **MONDAY}))
    assert bookable.at(8) not in starts
    assert bookable.at(9) not in starts
    assert bookable.at(8, 30) in starts


def visits(practice: BookablePractice) -> dict[str, Any]:
    other_patient = PatientFactory()
    other_surgeon = SurgeonFactory()
    return {
        "mine": AppointmentFactory(
            patient=practice.patient,
            surgeon=practice.surgeon,
            location=practice.location,
            start=practice.at(9),
        ),
        "cancelled": AppointmentFactory(
            patient=practice.patient,
            surgeon=practice.surgeon,
            location=practice.location,
            start=practice.at(10),
            status=AppointmentStatus.CANCELLED,
        ),
        "theirs": AppointmentFactory(
            patient=other_patient,
            surgeon=other_surgeon,
            location=practice.location,
            start=practice.at(9, day=dt.date(2027, 3, 9)),
            status=AppointmentStatus.CHECKED_IN,
        ),
    }


def test_appointments_are_searched_by_patient_practitioner_location_date_and_status(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    made = visits(bookable)
    mine, cancelled, theirs = (str(made[name].id) for name in ("mine", "cancelled", "theirs"))
    assert ids(get(scheduler_client, "Appointment", patient=f"Patient/{bookable.patient.id}")) == [
        mine,
        cancelled,
    ]
    assert ids(
        get(scheduler_client, "Appointment", practitioner=f"Practitioner/{made['theirs'].surgeon_id}")
    ) == [theirs]
    assert len(ids(get(scheduler_client, "Appointment", location=f"Location/{bookable.location.id}"))) == 3
    assert ids(get(scheduler_client, "Appointment", date="2027-03-09")) == [theirs]
    assert ids(
        get(scheduler_client, "Appointment", date=["ge2027-03-08T09:30:00-06:00", "lt2027-03-09"])
    ) == [cancelled]
    assert ids(get(scheduler_client, "Appointment", status="cancelled")) == [cancelled]
    assert ids(get(scheduler_client, "Appointment", status="arrived")) == [theirs]
    assert ids(get(scheduler_client, "Appointment", status="booked,arrived")) == [mine, theirs]


def test_an_appointment_reads_with_fhir_status_and_participants(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    made = visits(bookable)
    appointment = get(scheduler_client, f"Appointment/{made['theirs'].id}")
    assert appointment["status"] == "arrived"
    assert [
        participant["actor"]["reference"].split("/")[0] for participant in appointment["participant"]
    ] == [
        "Patient",
        "Practitioner",
        "Location",
    ]
    assert appointment["extension"] == [
        {"url": "urn:practice:fhir:StructureDefinition:urgency-tier", "valueCode": "standard"}
    ]


def test_a_hold_is_a_pending_appointment(bookable: BookablePractice, scheduler_client: APIClient) -> None:
    hold = hold_create(
        surgeon=bookable.surgeon,
        location=bookable.location,
        appointment_type=bookable.visit,
        tier=tier("standard"),
        start=bookable.at(9),
        patient=bookable.patient,
    )
    appointment = get(scheduler_client, f"Appointment/hold-{hold.id}")
    assert appointment["status"] == "pending"
    assert ids(get(scheduler_client, "Appointment", status="pending")) == [f"hold-{hold.id}"]


def test_a_patient_reads_and_is_found_by_record_number(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    patient = PatientFactory(record_number="MRN-4411")
    PatientFactory(record_number="MRN-9999")
    read = get(scheduler_client, f"Patient/{patient.id}")
    assert read["identifier"] == [{"system": "urn:practice:record-number", "value": "MRN-4411"}]
    assert ids(get(scheduler_client, "Patient", identifier="mrn-4411")) == [str(patient.id)]
    assert ids(get(scheduler_client, "Patient", identifier="urn:practice:record-number|MRN-4411")) == [
        str(patient.id)
    ]
    assert ids(get(scheduler_client, "Patient", identifier="urn:other|MRN-4411")) == []


@pytest.mark.parametrize(
    ("path", "name"), [("Patient", "identifier"), ("Location", "name"), ("Slot", "start")]
)
def test_a_nul_byte_in_a_search_parameter_is_a_400_naming_it(
    path: str, name: str, scheduler_client: APIClient
) -> None:
    response = scheduler_client.get(f"{FHIR}/{path}", {name: "MRN\x00"})
    assert response.status_code == 400, response.content
    assert response.json()["issue"][0]["expression"] == [name]


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("Appointment", {"patient": "Patient/\u00b2"}, "patient"),
        ("Patient", {"_count": "\u00b2"}, "_count"),
        ("Appointment", {"practitioner": "99999999999999999999999"}, "practitioner"),
        ("Patient/99999999999999999999999", {}, None),
        ("Slot/1-1-1-99999999999999", {}, None),
    ],
)
def test_digits_python_reads_but_int_refuses_are_a_400_not_a_500(
    path: str, query: dict[str, str], name: str | None, scheduler_client: APIClient
) -> None:
    response = scheduler_client.get(f"{FHIR}/{path}", query)
    assert response.status_code < 500, response.content
    if name is not None:
        assert response.json()["issue"][0]["expression"] == [name]


def test_reading_patients_and_visits_is_audited(
    bookable: BookablePractice, scheduler_client: APIClient, scheduler: User
) -> None:
    made = visits(bookable)
    get(scheduler_client, f"Patient/{bookable.patient.id}")
    get(scheduler_client, "Appointment", patient=f"Patient/{bookable.patient.id}")
    entries = AuditEntry.objects.filter(user=scheduler).order_by("id")
    assert [(entry.action, entry.object_type, entry.object_id) for entry in entries] == [
        ("read", "patient", bookable.patient.id),
        ("list", "appointment", made["mine"].id),
        ("list", "appointment", made["cancelled"].id),
    ]


def outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return valid(response.json())


def test_nobody_unauthenticated_reads_fhir_data(
    bookable: BookablePractice, anonymous_client: APIClient
) -> None:
    for path in ("Patient", f"Patient/{bookable.patient.id}", "Appointment", "Location", "Slot", "Schedule"):
        body = outcome(anonymous_client.get(f"{FHIR}/{path}"), 401)
        assert body["issue"][0]["code"] == "login"


def test_a_user_without_a_role_is_forbidden(bookable: BookablePractice) -> None:
    client = APIClient()
    client.force_authenticate(User.objects.create_user("no-role"))
    assert outcome(client.get(f"{FHIR}/Patient"), 403)["issue"][0]["code"] == "forbidden"


def test_an_unknown_resource_is_a_404_operation_outcome(scheduler_client: APIClient) -> None:
    assert outcome(scheduler_client.get(f"{FHIR}/Patient/999999"), 404)["issue"][0]["code"] == "not-found"
    assert outcome(scheduler_client.get(f"{FHIR}/Observation"), 404)["issue"][0]["code"] == "not-found"
    assert outcome(scheduler_client.get(f"{FHIR}/Slot/not-a-slot"), 404)["issue"][0]["code"] == "not-found"


def test_a_malformed_search_is_a_400_naming_the_parameter(
    bookable: BookablePractice, scheduler_client: APIClient
) -> None:
    body = outcome(
        scheduler_client.get(
            f"{FHIR}/Slot", {"appointment-type": bookable.visit.code, "start": "ge2027-03-08T09:00"}
        ),
        400,
    )
    assert body["issue"][0]["expression"] == ["start"]
    body = outcome(
        scheduler_client.get(f"{FHIR}/Slot", {"start": "ge2027-03-08", "appointment-type": ["a", "b"]}), 400
    )
    assert body["issue"][0]["expression"] == ["appointment-type"]
    body = outcome(scheduler_client.get(f"{FHIR}/Appointment", {"patient": "Group/4"}), 400)
    assert body["issue"][0]["expression"] == ["patient"]


def test_slot_and_appointment_searches_keep_to_a_query_budget(
    bookable: BookablePractice, scheduler_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    visits(bookable)
    for surgeon in SurgeonFactory.create_batch(3):
        BlockFactory(surgeon=surgeon, location=bookable.location, weekday=0)
    # Slots: the type, the tier and the calendar (one round trip on PostgreSQL, four through the
    # portable loader); the role check.
    with django_assert_max_num_queries(5 if connection.vendor == "postgresql" else 8):
        get(scheduler_client, "Slot", **{"appointment-type": bookable.visit.code, **MONDAY})
    # Appointments: holds, a page of visits with their relations, the count; the role check.
    with django_assert_max_num_queries(5):
        get(scheduler_client, "Appointment", location=f"Location/{bookable.location.id}")
    with django_assert_max_num_queries(4):
        get(scheduler_client, "Schedule")


def test_an_appointment_date_is_the_whole_local_day_at_its_location_across_a_dst_change(
    db: None, scheduler_client: APIClient
) -> None:
    # 2027-03-14: Chicago springs forward, a 23-hour day (06:00 UTC to 05:00 UTC the next day).
    chicago = LocationFactory(timezone="America/Chicago")
    tokyo = LocationFactory(timezone="Asia/Tokyo")
    central = ZoneInfo("America/Chicago")
    on_the_day = {
        "early": AppointmentFactory(location=chicago, start=dt.datetime(2027, 3, 14, 0, 30, tzinfo=central)),
        # 04:30 UTC on the 15th: a UTC day would miss it.
        "late": AppointmentFactory(location=chicago, start=dt.datetime(2027, 3, 14, 23, 30, tzinfo=central)),
        # 23:00 UTC on the 13th, but the 14th in Tokyo.
        "tokyo": AppointmentFactory(
            location=tokyo, start=dt.datetime(2027, 3, 14, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
        ),
    }
    # 05:15 UTC on the 15th: within 24 hours of the 14th's midnight, but the next local day.
    AppointmentFactory(location=chicago, start=dt.datetime(2027, 3, 15, 0, 15, tzinfo=central))
    AppointmentFactory(location=chicago, start=dt.datetime(2027, 3, 13, 23, 45, tzinfo=central))
    expected = sorted(str(visit.id) for visit in on_the_day.values())
    assert sorted(ids(get(scheduler_client, "Appointment", date="2027-03-14"))) == expected
    assert (
        sorted(ids(get(scheduler_client, "Appointment", date=["ge2027-03-14", "lt2027-03-15"]))) == expected
    )
    # Instants are instants, wherever the visit is.
    assert ids(
        get(scheduler_client, "Appointment", date=["ge2027-03-15T04:00:00Z", "lt2027-03-15T05:00:00Z"])
    ) == [str(on_the_day["late"].id)]
