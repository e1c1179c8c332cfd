"""GET /fhir/R4/metadata: the CapabilityStatement, listing exactly what this server does."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from fhir_api.apis import FHIR_RESPONSE
from fhir_api.http import FHIR_JSON, FhirView
from fhir_api.resources import FHIR_VERSION, RECORD_NUMBER_SYSTEM

# When this statement last changed (it describes the code, not the data).
STATEMENT_DATE = "2026-12-04"
IHE = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition"

_PAGING = [
    {"name": "_count", "type": "number", "documentation": "Page size (default 50, at most 500)."},
    {"name": "_offset", "type": "number", "documentation": "Matches to skip; the next link sets it."},
]


def _param(name: str, kind: str, documentation: str) -> dict[str, str]:
    return {"name": name, "type": kind, "documentation": documentation}


def _resource(kind: str, search: list[dict[str, str]], documentation: str) -> dict[str, Any]:
    return {
        "type": kind,
        "documentation": documentation,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [*search, *_PAGING],
    }


RESOURCES = [
    _resource(
        "Location",
        [
            _param("_id", "token", "Location id."),
            _param("name", "string", "Part of the name."),
            _param("status", "token", "active or inactive."),
        ],
        "The practice's clinics; each carries its IANA time zone (timezone extension).",
    ),
    _resource(
        "Practitioner",
        [
            _param("_id", "token", "Surgeon id."),
            _param("name", "string", "Part of a name."),
            _param("active", "token", "true or false."),
        ],
        "The practice's surgeons.",
    ),
    _resource(
        "PractitionerRole",
        [
            _param("practitioner", "reference", "Practitioner/<id>."),
            _param("location", "reference", "Location/<id>."),
        ],
        "A surgeon at a location where they hold clinic blocks; id <surgeon>-<location>.",
    ),
    _resource(
        "Schedule",
        [_param("actor", "reference", "Practitioner/<id> or Location/<id>; repeat for both.")],
        "One per surgeon and location with clinic blocks; id <surgeon>-<location>.",
    ),
    _resource(
        "Slot",
        [
            _param(
                "appointment-type",
                "token",
                "The appointment type code (its duration sets the slots). Without it, the practice's "
                "published type: FHIR_PUBLISH_APPOINTMENT_TYPE, else the shortest active type (as "
                "$bulk-publish).",
            ),
            _param("schedule", "reference", "Schedule/<surgeon>-<location>."),
            _param("schedule.actor", "reference", "Practitioner/<id> or Location/<id>."),
            _param(
                "start",
                "date",
                "ge/gt/le/lt/eq; dates are whole local days at each location, instants need "
                "an offset. Default: the next 14 days; at most 62.",
            ),
            _param("status", "token", "free: only free slots are served."),
            _param(
                "tier",
                "token",
                "Our urgency tier code (default the lowest): slots kept for more urgent "
                "tiers are offered only to them until released.",
            ),
        ],
        "Free slots computed by the slot engine (never stored), as /api/v1/slots/ finds them.",
    ),
    {
        **_resource(
            "Appointment",
            [
                _param("patient", "reference", "Patient/<id>."),
                _param("practitioner", "reference", "Practitioner/<id>."),
                _param("location", "reference", "Location/<id>."),
                _param(
                    "date",
                    "date",
                    "The start: ge/gt/le/lt/eq; a date is the whole local day at the appointment's "
                    "location (as Slot start dates are).",
                ),
                _param("status", "token", "booked, pending (a hold), arrived, fulfilled, cancelled, noshow."),
            ],
            "Visits; a hold is the pending Appointment hold-<id> until it expires. The extension "
            "urn:practice:fhir:StructureDefinition:urgency-tier (valueCode) carries the urgency tier. "
            "$hold and $book take the patient's referral named by the extension "
            "urn:practice:fhir:StructureDefinition:referral (valueReference ServiceRequest/<referral id>); "
            "without one, $book uses the patient's only open referral of the appointment's type and tier, "
            "if any. Booked from a referral, it leaves the queue and its due date ends the window.",
        ),
        "operation": [
            {"name": "find", "definition": f"{IHE}/appointment-find"},
            {"name": "hold", "definition": f"{IHE}/appointment-hold"},
            {"name": "book", "definition": f"{IHE}/appointment-book"},
        ],
    },
    _resource(
        "Patient",
        [_param("identifier", "token", f"The record number: <value> or {RECORD_NUMBER_SYSTEM}|<value>.")],
        "Patients (read, and search by record number).",
    ),
]


def capability_statement(*, base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": settings.PRACTICE_NAME,
        "kind": "instance",
        "software": {"name": "Surgical practice booking"},
        "implementation": {"description": f"{settings.PRACTICE_NAME} scheduling", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Same accounts and roles as /api/v1/ (schedulers and administrators): "
                "Authorization: Token <secret>. Errors are OperationOutcomes. $find takes start and end "
                "(required), appointmentType, practitioner, location and tier (our urgency tier code), and pages "
                "with _count and _offset (its Bundle's next link is a GET of $find); "
                "$hold and $book take appt-resource; POST operations accept an Idempotency-Key header. "
                "SMART Scheduling Links: GET $bulk-publish (public).",
                "security": {
                    "description": "Token authentication, as the practice's API; schedulers and administrators only."
                },
                "resource": RESOURCES,
            }
        ],
    }


class MetadataApi(FhirView):
    """Public, as FHIR clients read it before they authenticate; it shows no data."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        summary="FHIR CapabilityStatement: exactly what this server supports",
        responses={(200, FHIR_JSON): FHIR_RESPONSE},
        tags=["fhir"],
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response(capability_statement(base=request.build_absolute_uri("/fhir/R4/")))
