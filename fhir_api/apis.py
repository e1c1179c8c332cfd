"""FHIR R4 read and search: Location, Practitioner, PractitionerRole, Schedule, Slot, Appointment,
Patient. Schedulers only, as the API; reads of patients and visits are audited as the API's are.
The operations ($find, $hold, $book) are in `fhir_api.operations`, the CapabilityStatement in
`fhir_api.capabilities`, SMART Scheduling Links in `fhir_api.publish`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from booking.apis.slots import MAX_RANGE_DAYS, instants
from booking.models import Hold, Patient
from fhir_api import params, resources
from fhir_api.http import FHIR_JSON, FhirView
from fhir_api.selectors import (
    appointments_for_fhir,
    fhir_slots,
    holds_for_fhir,
    publish_appointment_type,
    schedules,
)
from locations.models import Location, Surgeon
from practice.audit import audit_record
from practice.errors import InvalidInput
from practice.models import AppointmentType, AuditAction, UrgencyTier

# Slot search without a start looks this far ahead.
DEFAULT_SLOT_DAYS = 14

FHIR_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="A FHIR R4 resource (application/fhir+json)."
)
BUNDLE_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="A FHIR R4 searchset Bundle (application/fhir+json)."
)
PAGING = [
    OpenApiParameter(
        "_count", OpenApiTypes.INT, description=f"Page size (default 50, at most {params.MAX_COUNT})."
    ),
    OpenApiParameter(
        "_offset", OpenApiTypes.INT, description="Skip this many matches (the next link sets it)."
    ),
]


def _query(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, description=description)


def _numeric(id: str) -> int:
    if not params.is_id(id):
        raise NotFound()
    return int(id)


class ResourceApi(FhirView):
    """GET <Type> searches, GET <Type>/<id> reads."""

    resource_type: str

    def get(self, request: Request, id: str | None = None) -> Response:
        if id is None:
            return Response(self.search(request))
        return Response(self.read(request, id))

    def read(self, request: Request, id: str) -> dict[str, Any]:
        raise NotImplementedError

    def search(self, request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def page(self, request: Request, rows: Any, build: Any) -> tuple[dict[str, Any], list[Any]]:
        """One page of a queryset or list as a searchset, and the rows on it."""
        size, start = params.count(request.query_params), params.offset(request.query_params)
        total = rows.count() if isinstance(rows, QuerySet) else len(rows)
        shown = list(rows[start : start + size])
        bundle = params.searchset(
            request, [build(row) for row in shown], total=total, page_size=size, start=start
        )
        return bundle, shown


def _by_name(rows: QuerySet[Any], request: Request, fields: tuple[str, ...]) -> QuerySet[Any]:
    for value in params.values(request.query_params, "name"):
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        rows = rows.filter(condition)
    ids = params.values(request.query_params, "_id")
    if ids:
        rows = rows.filter(pk__in=[_numeric(value) for value in ids if params.is_id(value)] or [0])
    active = request.query_params.get("active")
    if active is not None:
        rows = rows.filter(is_active=active == "true")
    return rows


@extend_schema(
    summary="FHIR Location: read, or search by _id, name, status",
    parameters=[_query("name", "Part of the name."), _query("status", "active or inactive."), *PAGING],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class LocationApi(ResourceApi):
    resource_type = "Location"

    def read(self, request: Request, id: str) -> dict[str, Any]:
        location = Location.objects.filter(pk=_numeric(id)).first()
        if location is None:
            raise NotFound()
        return resources.location_resource(location)

    def search(self, request: Request) -> dict[str, Any]:
        rows = _by_name(Location.objects.all(), request, ("name",))
        statuses = params.values(request.query_params, "status")
        if statuses:
            rows = rows.filter(is_active__in=[status == "active" for status in statuses])
        return self.page(request, rows, resources.location_resource)[0]


@extend_schema(
    summary="FHIR Practitioner (a surgeon): read, or search by _id, name, active",
    parameters=[_query("name", "Part of a name."), _query("active", "true or false."), *PAGING],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class PractitionerApi(ResourceApi):
    resource_type = "Practitioner"

    def read(self, request: Request, id: str) -> dict[str, Any]:
        surgeon = Surgeon.objects.filter(pk=_numeric(id)).first()
        if surgeon is None:
            raise NotFound()
        return resources.practitioner_resource(surgeon)

    def search(self, request: Request) -> dict[str, Any]:
        rows = _by_name(Surgeon.objects.all(), request, ("display_name", "first_name", "last_name"))
        return self.page(request, rows, resources.practitioner_resource)[0]


def _schedule_filters(request: Request) -> tuple[set[int] | None, set[int] | None]:
    """Surgeons and locations named by practitioner=, location= and actor= (FHIR's OR within a
    parameter, AND between them)."""
    surgeons: set[int] | None = None
    locations: set[int] | None = None
    query = request.query_params
    named_surgeons = {
        params.reference_id(v, kind="Practitioner", param="practitioner")
        for v in params.values(query, "practitioner")
    }
    named_locations = {
        params.reference_id(v, kind="Location", param="location") for v in params.values(query, "location")
    }
    for value in params.values(query, "actor"):
        if "Location/" in value:
            named_locations.add(params.reference_id(value, kind="Location", param="actor"))
        else:
            named_surgeons.add(params.reference_id(value, kind="Practitioner", param="actor"))
    if named_surgeons:
        surgeons = named_surgeons
    if named_locations:
        locations = named_locations
    return surgeons, locations


def _pair(id: str) -> tuple[int, int]:
    surgeon, _, location = id.partition("-")
    if not (params.is_id(surgeon) and params.is_id(location)):
        raise NotFound()
    return int(surgeon), int(location)


@extend_schema(
    summary="FHIR PractitionerRole (a surgeon at a location): read, or search by practitioner, location",
    parameters=[_query("practitioner", "Practitioner/<id>."), _query("location", "Location/<id>."), *PAGING],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class PractitionerRoleApi(ResourceApi):
    resource_type = "PractitionerRole"

    def read(self, request: Request, id: str) -> dict[str, Any]:
        surgeon, location = _pair(id)
        found = schedules(surgeon_ids=[surgeon], location_ids=[location])
        if not found:
            raise NotFound()
        return resources.practitioner_role_resource(found[0].surgeon, found[0].location)

    def search(self, request: Request) -> dict[str, Any]:
        surgeons, locations = _schedule_filters(request)
        found = schedules(surgeon_ids=surgeons, location_ids=locations)
        return self.page(
            request, found, lambda s: resources.practitioner_role_resource(s.surgeon, s.location)
        )[0]


@extend_schema(
    summary="FHIR Schedule (a surgeon at a location): read, or search by actor",
    parameters=[_query("actor", "Practitioner/<id> or Location/<id>; repeat for both."), *PAGING],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class ScheduleApi(PractitionerRoleApi):
    resource_type = "Schedule"

    def read(self, request: Request, id: str) -> dict[str, Any]:
        surgeon, location = _pair(id)
        found = schedules(surgeon_ids=[surgeon], location_ids=[location])
        if not found:
            raise NotFound()
        return resources.schedule_resource(found[0].surgeon, found[0].location)

    def search(self, request: Request) -> dict[str, Any]:
        surgeons, locations = _schedule_filters(request)
        found = schedules(surgeon_ids=surgeons, location_ids=locations)
        return self.page(request, found, lambda s: resources.schedule_resource(s.surgeon, s.location))[0]


def appointment_type_named(value: str, *, param: str) -> AppointmentType:
    appointment_type = AppointmentType.objects.filter(code=params.token(value), is_active=True).first()
    if appointment_type is None:
        raise InvalidInput.for_field(
            param, f"No active appointment type has the code {params.token(value)!r}."
        )
    return appointment_type


def _slot_appointment_type(codes: list[str]) -> AppointmentType:
    """The type a Slot search asks for; none named: the practice's published one."""
    if len(codes) > 1:
        raise InvalidInput.for_field("appointment-type", "Give one appointment type code.")
    if codes:
        return appointment_type_named(codes[0], param="appointment-type")
    appointment_type = publish_appointment_type()
    if appointment_type is None:
        raise InvalidInput.for_field(
            "appointment-type", "Give an appointment type code: the practice publishes none by default."
        )
    return appointment_type


def tier_named(value: str | None, *, param: str) -> UrgencyTier | None:
    if not value:
        return None
    tier = UrgencyTier.objects.filter(code=params.token(value)).first()
    if tier is None:
        raise InvalidInput.for_field(param, f"No urgency tier has the code {params.token(value)!r}.")
    return tier


def slot_range(
    bounds: list[params.DateBound], *, param: str, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime, tuple[dt.date, dt.date] | None]:
    """[start, end) to search, and the local dates to keep when the bounds are dates (whole local
    days at each location, as /api/v1/slots/ reads dates)."""
    if bounds and all(bound.is_date for bound in bounds):
        first, last = None, None
        for bound in bounds:
            day: dt.date = bound.value
            if bound.prefix in {"eq", "ge", "gt"}:
                begin = day + dt.timedelta(days=1 if bound.prefix == "gt" else 0)
                first = max(first, begin) if first else begin
            if bound.prefix in {"eq", "le", "lt"}:
                finish = day - dt.timedelta(days=1 if bound.prefix == "lt" else 0)
                last = min(last, finish) if last else finish
        first = first or now.date()
        last = last or first + dt.timedelta(days=DEFAULT_SLOT_DAYS - 1)
        if last < first:
            raise InvalidInput.for_field(param, "The range is empty.")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidInput.for_field(param, f"The range may span at most {MAX_RANGE_DAYS} days.")
        start, end = instants(first, last)
        return start, end, (first, last)
    low, high = params.instant_range(bounds, param=param)
    low = low or now
    high = high or low + dt.timedelta(days=DEFAULT_SLOT_DAYS)
    if high <= low:
        raise InvalidInput.for_field(param, "The range is empty.")
    if high - low > dt.timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput.for_field(param, f"The range may span at most {MAX_RANGE_DAYS} days.")
    return low, high, None


@extend_schema(
    summary="FHIR Slot (computed by the slot engine, never stored): read, or search",
    description="Search by schedule, schedule.actor, start (ge/gt/le/lt/eq; dates are whole local days, "
    "instants need an offset; default: the next 14 days), status=free, appointment-type (default: "
    "the practice's published type, FHIR_PUBLISH_APPOINTMENT_TYPE, else the shortest active one), "
    "tier (our urgency tier code; default the lowest), _count and _offset.",
    parameters=[
        _query(
            "appointment-type",
            "Appointment type code; default: the published type (FHIR_PUBLISH_APPOINTMENT_TYPE, else the "
            "shortest active one).",
        ),
        _query("schedule", "Schedule/<surgeon>-<location>."),
        _query("schedule.actor", "Practitioner/<id> or Location/<id>; repeat for both."),
        _query("start", "ge<date or instant> and lt<date or instant>."),
        _query("status", "free (the only status served)."),
        _query("tier", "Urgency tier code."),
        *PAGING,
    ],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class SlotApi(ResourceApi):
    resource_type = "Slot"

    def read(self, request: Request, id: str) -> dict[str, Any]:
        parts = id.split("-")
        # The epoch is seconds: ten or eleven digits until the year 5138.
        if len(parts) != 4 or not all(params.is_id(part) for part in parts) or len(parts[3]) > 11:
            raise NotFound()
        surgeon, location, type_id, epoch = (int(part) for part in parts)
        appointment_type = AppointmentType.objects.filter(pk=type_id, is_active=True).first()
        if appointment_type is None:
            raise NotFound()
        start = dt.datetime.fromtimestamp(epoch, dt.UTC)
        found = [
            slot
            for slot in fhir_slots(
                appointment_type=appointment_type,
                tier=None,
                start=start,
                end=start + dt.timedelta(microseconds=1),
                surgeon_ids=[surgeon],
                location_ids=[location],
            )
            if slot.start == start
        ]
        if not found:
            raise NotFound("The slot is not free (any more).")
        return resources.slot_resource(found[0], appointment_type)

    def search(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        appointment_type = _slot_appointment_type(params.values(query, "appointment-type"))
        tier = tier_named(query.get("tier"), param="tier")
        pairs = {
            params.pair_reference(v, kind="Schedule", param="schedule")
            for v in params.values(query, "schedule")
        }
        surgeons: set[int] | None = {surgeon for surgeon, _ in pairs} or None
        locations: set[int] | None = {location for _, location in pairs} or None
        for value in params.values(query, "schedule.actor"):
            if "Location/" in value:
                chosen = {params.reference_id(value, kind="Location", param="schedule.actor")}
                locations = chosen if locations is None else locations & chosen
            else:
                chosen = {params.reference_id(value, kind="Practitioner", param="schedule.actor")}
                surgeons = chosen if surgeons is None else surgeons & chosen
        start, end, dates = slot_range(params.date_bounds(query, "start"), param="start", now=timezone.now())
        statuses = params.values(query, "status")
        if statuses and "free" not in statuses:
            found = []
        else:
            found = fhir_slots(
                appointment_type=appointment_type,
                tier=tier,
                start=start,
                end=end,
                surgeon_ids=surgeons,
                location_ids=locations,
                pairs=pairs or None,
                location_dates=dates,
            )
        return self.page(request, found, lambda slot: resources.slot_resource(slot, appointment_type))[0]


# FHIR's Appointment.status as ours (a hold is `pending`).
STATUSES_FROM_FHIR: dict[str, list[str]] = {}
for _ours, _theirs in resources.APPOINTMENT_STATUSES.items():
    STATUSES_FROM_FHIR.setdefault(_theirs, []).append(_ours)


@extend_schema(
    summary="FHIR Appointment (a visit, or a hold as `hold-<id>`, pending): read, or search",
    description="Search by patient, practitioner, location, date (the start: ge/gt/le/lt/eq; a date is a "
    "whole local day at the appointment's location, as Slot start dates are), status (booked, pending for a hold, arrived, fulfilled, cancelled, noshow).",
    parameters=[
        _query("patient", "Patient/<id>."),
        _query("practitioner", "Practitioner/<id>."),
        _query("location", "Location/<id>."),
        _query("date", "ge<date or instant>, lt<date or instant>, ..."),
        _query("status", "booked, pending, arrived, fulfilled, cancelled, noshow."),
        *PAGING,
    ],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class AppointmentApi(ResourceApi):
    resource_type = "Appointment"

    def read(self, request: Request, id: str) -> dict[str, Any]:
        if id.startswith(resources.HOLD_PREFIX):
            hold = holds_for_fhir().filter(pk=_numeric(id.removeprefix(resources.HOLD_PREFIX))).first()
            if hold is None:
                raise NotFound("No such hold, or it expired.")
            _audit(request, AuditAction.READ, [hold])
            return resources.hold_resource(hold)
        appointment = appointments_for_fhir().filter(pk=_numeric(id)).first()
        if appointment is None:
            raise NotFound()
        _audit(request, AuditAction.READ, [appointment])
        return resources.appointment_resource(appointment)

    def search(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        condition = Q()
        if patients := params.values(query, "patient"):
            condition &= Q(
                patient_id__in=[params.reference_id(v, kind="Patient", param="patient") for v in patients]
            )
        if surgeons := params.values(query, "practitioner"):
            condition &= Q(
                surgeon_id__in=[
                    params.reference_id(v, kind="Practitioner", param="practitioner") for v in surgeons
                ]
            )
        if locations := params.values(query, "location"):
            condition &= Q(
                location_id__in=[params.reference_id(v, kind="Location", param="location") for v in locations]
            )
        condition &= _date_condition(params.date_bounds(query, "date"))
        statuses = params.values(query, "status")
        unknown = set(statuses) - set(STATUSES_FROM_FHIR) - {resources.HOLD_STATUS}
        if unknown:
            raise InvalidInput.for_field("status", f"Unknown status {sorted(unknown)[0]!r}.")
        holds: list[Hold] = []
        if not statuses or resources.HOLD_STATUS in statuses:
            holds = list(holds_for_fhir().filter(condition))
        visits = appointments_for_fhir().filter(condition)
        if statuses:
            ours = [status for fhir in statuses for status in STATUSES_FROM_FHIR.get(fhir, [])]
            visits = visits.filter(status__in=ours) if ours else visits.none()
        size, start = params.count(query), params.offset(query)
        shown_holds = holds[start : start + size]
        visit_start = max(0, start - len(holds))
        shown_visits = list(visits[visit_start : visit_start + size - len(shown_holds)])
        _audit(request, AuditAction.LIST, [*shown_holds, *shown_visits])
        built = [resources.hold_resource(hold) for hold in shown_holds] + [
            resources.appointment_resource(visit) for visit in shown_visits
        ]
        return params.searchset(
            request, built, total=len(holds) + visits.count(), page_size=size, start=start
        )


def _date_condition(bounds: list[params.DateBound]) -> Q:
    """Visits (and holds) starting within the bounds. A date is the whole local day at the
    visit's location, as Slot `start` dates are: one range per clinic time zone."""
    if not any(bound.is_date for bound in bounds):
        return _starting_between(*params.instant_range(bounds, param="date"))
    condition = Q(pk__in=[])
    for name in Location.objects.order_by().values_list("timezone", flat=True).distinct():
        low, high = params.instant_range(bounds, param="date", zone=ZoneInfo(name))
        condition |= Q(location__timezone=name) & _starting_between(low, high)
    return condition


def _starting_between(low: dt.datetime | None, high: dt.datetime | None) -> Q:
    condition = Q()
    if low:
        condition &= Q(start__gte=low)
    if high:
        condition &= Q(start__lt=high)
    return condition


def _audit(request: Request, action: str, objects: list[Any]) -> None:
    audit_record(
        request,
        action=action,
        object_type=lambda obj: "hold" if isinstance(obj, Hold) else "appointment",
        objects=objects,
    )


@extend_schema(
    summary="FHIR Patient: read, or search by identifier (the record number)",
    parameters=[
        _query("identifier", f"Record number: <value> or {resources.RECORD_NUMBER_SYSTEM}|<value>."),
        *PAGING,
    ],
    responses={(200, FHIR_JSON): FHIR_RESPONSE},
    tags=["fhir"],
)
class PatientApi(ResourceApi):
    resource_type = "Patient"

    def read(self, request: Request, id: str) -> dict[str, Any]:
        patient = Patient.objects.filter(pk=_numeric(id)).first()
        if patient is None:
            raise NotFound()
        self._audit(request, AuditAction.READ, [patient])
        return resources.patient_resource(patient)

    def search(self, request: Request) -> dict[str, Any]:
        rows = Patient.objects.all()
        identifiers = params.values(request.query_params, "identifier")
        if identifiers:
            systems = {value.rpartition("|")[0] for value in identifiers} - {""}
            if systems - {resources.RECORD_NUMBER_SYSTEM}:
                rows = rows.none()
            condition = Q()
            for value in identifiers:
                condition |= Q(record_number__iexact=params.token(value))
            rows = rows.filter(condition)
        bundle, shown = self.page(request, rows, resources.patient_resource)
        self._audit(request, AuditAction.LIST, shown)
        return bundle

    @staticmethod
    def _audit(request: Request, action: str, patients: list[Patient]) -> None:
        audit_record(
            request,
            action=action,
            object_type="patient",
            objects=patients,
            patient_id_of=lambda patient: patient.pk,
        )
