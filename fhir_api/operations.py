"""IHE ITI Scheduling's operations on Appointment: $find (potential appointments from the slot
engine), $hold (a hold: Appointment pending) and $book (book a held or proposed appointment, or
cancel a booked one). Inputs are a Parameters resource; POSTs accept an Idempotency-Key."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from booking import services
from booking.models import Appointment, Hold, Patient, Referral
from booking.selectors import referral_open_for_booking
from fhir_api import params, resources
from fhir_api.apis import BUNDLE_RESPONSE, FHIR_RESPONSE, appointment_type_named, slot_range, tier_named
from fhir_api.http import FHIR_JSON, FhirView
from fhir_api.selectors import appointments_for_fhir, fhir_slots, holds_for_fhir
from locations.models import Location, Surgeon
from practice.audit import audit_record
from practice.errors import InvalidInput
from practice.fields import AwareDateTimeField
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.models import AuditAction, UrgencyTier

CANCELLED_REASON = "Cancelled through FHIR $book"
FIND_PARAMETERS = ("start", "end", "appointmentType", "practitioner", "location", "tier")


def _parameters(body: Any) -> dict[str, Any]:
    """A Parameters resource as {name: value}: the value[x] of each parameter, or its resource."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput.for_field("resourceType", "Send a Parameters resource.")
    listed = body.get("parameter") or []
    if not isinstance(listed, list):
        raise InvalidInput.for_field("parameter", "Send the parameters as a list.")
    found: dict[str, Any] = {}
    for parameter in listed:
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise InvalidInput.for_field("parameter", "Each parameter needs a name.")
        if "resource" in parameter:
            found[parameter["name"]] = parameter["resource"]
            continue
        values = [value for key, value in parameter.items() if key.startswith("value")]
        if values:
            found[parameter["name"]] = values[0]
    return found


def _text(value: Any, param: str = "parameter") -> str | None:
    """A code, string, Coding, CodeableConcept or Reference parameter as its code or reference;
    any other shape is a 400 naming `param`."""
    if value is None:
        return None
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            return str(value["reference"])
        if isinstance(value.get("code"), str):
            return str(value["code"])
        coding = value.get("coding")
        if isinstance(coding, list) and coding and isinstance(coding[0], dict):
            return _text(coding[0].get("code", ""), param)
    raise InvalidInput.for_field(param, f"Cannot read {value!r} as a code or reference.")


def _find_inputs(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return {key: request.query_params.get(key) for key in request.query_params}
    return _parameters(request.data)


@extend_schema(
    summary="FHIR Appointment/$find (IHE ITI-115): potential appointments as a Bundle of proposed Appointments",
    description="Parameters: start and end (required; dates are whole local days, instants need an offset), "
    "appointmentType (required), practitioner, location, tier (our urgency tier code), _count and _offset "
    "(the Bundle's next and previous links are GETs of $find). The same slots as /api/v1/slots/.",
    request=OpenApiTypes.OBJECT,
    responses={(200, FHIR_JSON): BUNDLE_RESPONSE},
    tags=["fhir"],
)
class FindApi(FhirView):
    def post(self, request: Request) -> Response:
        inputs = _find_inputs(request)
        for required in ("start", "end", "appointmentType"):
            if not inputs.get(required):
                raise InvalidInput.for_field(required, "This parameter is required.")
        appointment_type = appointment_type_named(
            _text(inputs["appointmentType"], "appointmentType") or "", param="appointmentType"
        )
        tier = (
            tier_named(_text(inputs.get("tier"), "tier"), param="tier")
            or UrgencyTier.objects.order_by("rank").first()
        )
        surgeons = locations = None
        if inputs.get("practitioner"):
            surgeons = [
                params.reference_id(
                    _text(inputs["practitioner"], "practitioner") or "",
                    kind="Practitioner",
                    param="practitioner",
                )
            ]
        if inputs.get("location"):
            locations = [
                params.reference_id(
                    _text(inputs["location"], "location") or "", kind="Location", param="location"
                )
            ]
        first, last = _bound(inputs["start"], "start"), _bound(inputs["end"], "end")
        if first.is_date != last.is_date:
            raise InvalidInput.for_field("end", "Give start and end both as dates or both as instants.")
        # As /api/v1/slots/: an end date is the last whole day searched, an end instant is exclusive.
        bounds = [
            params.DateBound("ge", first.value),
            params.DateBound("le" if last.is_date else "lt", last.value),
        ]
        start, end, dates = slot_range(bounds, param="end", now=timezone.now())
        found = fhir_slots(
            appointment_type=appointment_type,
            tier=tier if inputs.get("tier") else None,
            start=start,
            end=end,
            surgeon_ids=surgeons,
            location_ids=locations,
            location_dates=dates,
        )
        size = params.count_value(_text(inputs.get("_count"), "_count"))
        offset = params.offset_value(_text(inputs.get("_offset"), "_offset"))
        shown = found[offset : offset + size]
        people = Surgeon.objects.in_bulk({slot.surgeon_id for slot in shown})
        places = Location.objects.in_bulk({slot.location_id for slot in shown})
        assert tier is not None  # noqa: S101 (the tiers are seeded by a migration)
        entries = [
            {
                "resource": resources.proposed_appointment(
                    slot, appointment_type, tier, people[slot.surgeon_id], places[slot.location_id]
                ),
                "search": {"mode": "match"},
            }
            for slot in shown
        ]
        # The other pages are GETs of $find (it changes nothing) with the same parameters.
        query = [(name, _text(inputs[name]) or "") for name in FIND_PARAMETERS if inputs.get(name)]
        links = params.page_links(request, query, total=len(found), page_size=size, start=offset)
        return Response(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(found),
                "link": links,
                "entry": entries,
            }
        )

    get = post


def _bound(value: Any, name: str) -> params.DateBound:
    query = QueryDict(mutable=True)
    query[name] = _text(value, name) or ""
    bound = params.date_bounds(query, name)[0]
    if bound.prefix != "eq":
        raise InvalidInput.for_field(name, "Give a date or an instant, without a prefix.")
    return bound


def _participants(appointment: dict[str, Any]) -> dict[str, str]:
    """The actors of an Appointment by kind: {"Practitioner": "Practitioner/3", ...}."""
    listed = appointment.get("participant") or []
    if not isinstance(listed, list):
        raise InvalidInput.for_field("appt-resource.participant", "Send the participants as a list.")
    found: dict[str, str] = {}
    for participant in listed:
        actor = participant.get("actor") if isinstance(participant, dict) else None
        reference = actor.get("reference") if isinstance(actor, dict) else None
        if not isinstance(reference, str):
            raise InvalidInput.for_field(
                "appt-resource.participant", "Each participant needs an actor with a reference."
            )
        kind = reference.rsplit("/", 2)[-2] if reference.count("/") else ""
        if kind:
            found[kind] = reference
    return found


def _extension(resource: dict[str, Any], url: str) -> Any:
    """The value[x] of `resource`'s extension `url`, or None."""
    listed = resource.get("extension") or []
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        raise InvalidInput.for_field("appt-resource.extension", "Send extensions as a list of objects.")
    for item in listed:
        if item.get("url") == url:
            return next((value for key, value in item.items() if key.startswith("value")), None)
    return None


class _Slot:
    """What an appt-resource names: surgeon, location, type, tier, start, and maybe a patient."""

    def __init__(self, appointment: Any) -> None:
        if not isinstance(appointment, dict) or appointment.get("resourceType") != "Appointment":
            raise InvalidInput.for_field("appt-resource", "Send an Appointment as appt-resource.")
        self.resource = appointment
        actors = _participants(appointment)
        self.patient_reference = actors.get("Patient")
        self.surgeon_reference = actors.get("Practitioner")
        self.location_reference = actors.get("Location")
        self.status = appointment.get("status")
        if self.status is not None and not isinstance(self.status, str):
            raise InvalidInput.for_field("appt-resource.status", "Give the status as a code.")
        self.id = _text(appointment.get("id"), "appt-resource.id") or ""

    def slot_fields(self) -> dict[str, Any]:
        if not (self.surgeon_reference and self.location_reference):
            raise InvalidInput.for_field("appt-resource.participant", "Name a Practitioner and a Location.")
        surgeon = Surgeon.objects.filter(
            pk=params.reference_id(
                self.surgeon_reference, kind="Practitioner", param="appt-resource.participant"
            )
        ).first()
        location = Location.objects.filter(
            pk=params.reference_id(
                self.location_reference, kind="Location", param="appt-resource.participant"
            )
        ).first()
        if surgeon is None or location is None:
            raise InvalidInput.for_field("appt-resource.participant", "Unknown Practitioner or Location.")
        concept = self.resource.get("appointmentType")
        if not concept:
            raise InvalidInput.for_field("appt-resource.appointmentType", "This field is required.")
        appointment_type = appointment_type_named(
            _text(concept, "appt-resource.appointmentType") or "", param="appt-resource.appointmentType"
        )
        tier_code = _text(_extension(self.resource, resources.TIER_EXTENSION), "appt-resource.extension")
        tier = (
            tier_named(tier_code, param="appt-resource.extension")
            or UrgencyTier.objects.order_by("rank").first()
        )
        if not isinstance(self.resource.get("start"), str):
            raise InvalidInput.for_field(
                "appt-resource.start", "Give the start as an instant with an offset."
            )
        try:
            start = AwareDateTimeField().to_internal_value(self.resource["start"])
        except serializers.ValidationError as error:
            raise InvalidInput.for_field(
                "appt-resource.start", "Give the start as an instant with an offset."
            ) from error
        return {
            "surgeon": surgeon,
            "location": location,
            "appointment_type": appointment_type,
            "tier": tier,
            "start": start,
        }

    def referral(self) -> Referral | None:
        """The referral the extension names (ServiceRequest/<id>), or None."""
        named = _text(_extension(self.resource, resources.REFERRAL_EXTENSION), "appt-resource.extension")
        if named is None:
            return None
        pk = params.reference_id(named, kind="ServiceRequest", param="appt-resource.extension")
        referral = Referral.objects.filter(pk=pk).first()
        if referral is None:
            raise InvalidInput.for_field("appt-resource.extension", "Unknown referral.")
        return referral

    def patient(self, *, required: bool) -> Patient | None:
        if not self.patient_reference:
            if required:
                raise InvalidInput.for_field("appt-resource.participant", "Name the Patient.")
            return None
        patient = Patient.objects.filter(
            pk=params.reference_id(self.patient_reference, kind="Patient", param="appt-resource.participant")
        ).first()
        if patient is None:
            raise InvalidInput.for_field("appt-resource.participant", "Unknown Patient.")
        return patient


def _appt_resource(request: Request) -> _Slot:
    inputs = _parameters(request.data)
    if "appt-resource" not in inputs:
        raise InvalidInput.for_field("appt-resource", "This parameter is required.")
    return _Slot(inputs["appt-resource"])


def _hold_output(request: Request, hold: Hold) -> Response:
    hold = holds_for_fhir(now=hold.created_at).get(pk=hold.pk)
    audit_record(request, action=AuditAction.CREATE, object_type="hold", objects=[hold])
    return Response(resources.hold_resource(hold))


@extend_schema(
    summary="FHIR Appointment/$hold (IHE ITI-116): hold a proposed appointment (HOLD_MINUTES); answers the "
    "pending Appointment hold-<id>",
    request=OpenApiTypes.OBJECT,
    parameters=[OPENAPI_PARAMETER],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class HoldApi(FhirView):
    @idempotent
    def post(self, request: Request) -> Response:
        wanted = _appt_resource(request)
        hold = services.hold_create(
            **wanted.slot_fields(),
            patient=wanted.patient(required=False),
            referral=wanted.referral(),
            held_by=request.user,
        )
        return _hold_output(request, hold)


@extend_schema(
    summary="FHIR Appointment/$book (IHE ITI-117): book a held (hold-<id>) or proposed appointment, or "
    "cancel a booked one (status cancelled)",
    request=OpenApiTypes.OBJECT,
    parameters=[OPENAPI_PARAMETER],
    responses={(200, FHIR_JSON): FHIR_RESPONSE, (201, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class BookApi(FhirView):
    @idempotent
    def post(self, request: Request) -> Response:
        wanted = _appt_resource(request)
        if wanted.status == "cancelled":
            return self._cancel(request, wanted)
        hold_id = None
        if wanted.id.startswith(resources.HOLD_PREFIX):
            number = wanted.id.removeprefix(resources.HOLD_PREFIX)
            if not params.is_id(number):
                raise InvalidInput.for_field("appt-resource.id", "Expected hold-<id>.")
            hold_id = int(number)
        fields = wanted.slot_fields()
        patient = wanted.patient(required=hold_id is None)
        held = Hold.objects.filter(pk=hold_id).select_related("patient").first() if hold_id else None
        if patient is None:
            patient = held.patient if held is not None else None
            if patient is None:
                raise InvalidInput.for_field("appt-resource.participant", "Name the Patient.")
        referral = wanted.referral()
        if referral is None and (held is None or held.referral_id is None):
            # As a scheduler booking from the queue: the visit answers the patient's open referral.
            referral = referral_open_for_booking(
                patient_id=patient.pk,
                appointment_type_id=fields["appointment_type"].pk,
                tier_id=fields["tier"].pk,
            )
        appointment = services.appointment_book(
            **fields, patient=patient, hold_id=hold_id, referral=referral, booked_by=request.user
        )
        audit_record(request, action=AuditAction.CREATE, object_type="appointment", objects=[appointment])
        return Response(
            resources.appointment_resource(appointments_for_fhir().get(pk=appointment.pk)),
            status=status.HTTP_201_CREATED,
        )

    def _cancel(self, request: Request, wanted: _Slot) -> Response:
        if not params.is_id(wanted.id):
            raise InvalidInput.for_field("appt-resource.id", "Name the booked Appointment to cancel.")
        appointment = Appointment.objects.filter(pk=int(wanted.id)).first()
        if appointment is None:
            raise InvalidInput.for_field("appt-resource.id", "No such Appointment.")
        concept = wanted.resource.get("cancelationReason") or {}
        text = concept.get("text") if isinstance(concept, dict) else None
        if not isinstance(concept, dict) or not isinstance(text, str | None):
            raise InvalidInput.for_field(
                "appt-resource.cancelationReason", "Give the reason as a CodeableConcept with a text."
            )
        reason = (text or "").strip()
        services.appointment_cancel(appointment=appointment, reason=reason or CANCELLED_REASON)
        audit_record(request, action=AuditAction.UPDATE, object_type="appointment", objects=[appointment])
        return Response(resources.appointment_resource(appointments_for_fhir().get(pk=appointment.pk)))
