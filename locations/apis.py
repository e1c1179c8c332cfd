"""Locations with their hours and closures; surgeons with their blocks and time off."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from locations import patient_notices, visits
from locations.models import Block, Closure, Location, Surgeon, TimeOff
from locations.selectors import (
    BlockFilter,
    ClosureFilter,
    LocationFilter,
    SurgeonFilter,
    TimeOffFilter,
    block_list,
    block_warnings,
    closure_list,
    location_hours,
    location_list,
    surgeon_list,
    time_off_list,
)
from locations.serializers import (
    AppointmentConflictSerializer,
    BlockSerializer,
    BlockWithConflictsSerializer,
    ClosureCreateSerializer,
    ClosureSerializer,
    ClosureWithNoticesSerializer,
    ConflictsSerializer,
    HoursIntervalSerializer,
    HoursReplaceOutputSerializer,
    LocationSerializer,
    LocationWithConflictsSerializer,
    SurgeonSerializer,
    SurgeonWithConflictsSerializer,
    TimeOffSerializer,
    TimeOffWithConflictsSerializer,
)
from locations.services.blocks import block_create, block_delete, block_update
from locations.services.closures import closure_create, closure_delete
from locations.services.hours import Interval, location_hours_replace
from locations.services.locations import location_create, location_delete, location_update
from locations.services.surgeons import surgeon_create, surgeon_delete, surgeon_update
from locations.services.time_off import time_off_create, time_off_delete
from practice.apis import IDEMPOTENCY_KEY_PARAMETER, ServiceViewSet, destroy_refused_while_in_use
from practice.idempotency import idempotent
from practice.permissions import SchedulerReadsAdministratorWrites


class _NotifyQuerySerializer(serializers.Serializer):
    notify_patients = serializers.BooleanField(required=False, default=False)


_NOTIFY_PARAMETER = OpenApiParameter(
    "notify_patients",
    bool,
    description="Text the patient of each visit this change strands (deactivating, say) a link to pick a "
    "new time; those without consent go to the worklist. The answer then lists `notices`.",
)


class _NotifiesStranded(ServiceViewSet):
    """An update that may strand visits (deactivating a location or a surgeon) tells their
    patients when asked with ?notify_patients=true."""

    stranded_key: str

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = _NotifyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if not query.validated_data["notify_patients"]:
            return super().update(request, *args, **kwargs)
        scope = {self.stranded_key: self.get_object().pk}
        with transaction.atomic():
            before = {c.appointment.pk for c in visits.conflicts(**scope)}
            response = super().update(request, *args, **kwargs)
            stranded = [c.appointment.pk for c in visits.conflicts(**scope) if c.appointment.pk not in before]
            notices = patient_notices.stranded_notify(appointment_ids=stranded, dry_run=False)
            response.data = {**response.data, "notices": notices}
        return response


@extend_schema_view(
    destroy=destroy_refused_while_in_use("location"),
    update=extend_schema(responses={200: LocationWithConflictsSerializer}, parameters=[_NOTIFY_PARAMETER]),
    partial_update=extend_schema(
        responses={200: LocationWithConflictsSerializer}, parameters=[_NOTIFY_PARAMETER]
    ),
)
@extend_schema(tags=["locations"])
class LocationViewSet(_NotifiesStranded):
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    queryset = location_list()
    stranded_key = "location_id"

    def response_data(self, instance: Location) -> Any:
        """A change (a new zone moves every local time) answers with the visits it left outside
        availability, as the writes under a location do."""
        data = super().response_data(instance)
        if self.action in ("update", "partial_update"):
            conflicts = visits.conflicts(location_id=instance.pk)
            data = {**data, "conflicts": AppointmentConflictSerializer(conflicts, many=True).data}
        return data

    def service_create(self, data: dict[str, Any]) -> Location:
        return location_create(**data)

    def service_update(self, instance: Location, data: dict[str, Any]) -> Location:
        return location_update(location=instance, data=data)

    def service_delete(self, instance: Location) -> None:
        location_delete(location=instance)


@extend_schema_view(
    destroy=destroy_refused_while_in_use("surgeon"),
    update=extend_schema(responses={200: SurgeonWithConflictsSerializer}, parameters=[_NOTIFY_PARAMETER]),
    partial_update=extend_schema(
        responses={200: SurgeonWithConflictsSerializer}, parameters=[_NOTIFY_PARAMETER]
    ),
)
@extend_schema(tags=["surgeons"])
class SurgeonViewSet(_NotifiesStranded):
    serializer_class = SurgeonSerializer
    filterset_class = SurgeonFilter
    queryset = surgeon_list()
    stranded_key = "surgeon_id"

    def response_data(self, instance: Surgeon) -> Any:
        """A change (deactivating) answers with the visits it left outside availability, as the
        writes under a surgeon do."""
        data = super().response_data(instance)
        if self.action in ("update", "partial_update"):
            conflicts = visits.conflicts(surgeon_id=instance.pk)
            data = {**data, "conflicts": AppointmentConflictSerializer(conflicts, many=True).data}
        return data

    def service_create(self, data: dict[str, Any]) -> Surgeon:
        return surgeon_create(**data)

    def service_update(self, instance: Surgeon, data: dict[str, Any]) -> Surgeon:
        return surgeon_update(surgeon=instance, data=data)

    def service_delete(self, instance: Surgeon) -> None:
        surgeon_delete(surgeon=instance)


class LocationHoursApi(APIView):
    """A location's weekly opening hours: intervals per weekday (0 = Monday); a day without one is closed."""

    permission_classes = [SchedulerReadsAdministratorWrites]

    @extend_schema(responses={200: HoursIntervalSerializer(many=True)}, tags=["locations"])
    def get(self, request: Request, location_id: int) -> Response:
        location = get_object_or_404(Location, pk=location_id)
        return Response(HoursIntervalSerializer(location_hours(location=location), many=True).data)

    @extend_schema(
        request=HoursIntervalSerializer(many=True),
        responses={200: HoursReplaceOutputSerializer},
        description="Replaces the whole week atomically: one bad interval and nothing changes.",
        tags=["locations"],
    )
    def put(self, request: Request, location_id: int) -> Response:
        location = get_object_or_404(Location, pk=location_id)
        serializer = HoursIntervalSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        intervals = [Interval(**item) for item in serializer.validated_data]
        hours = location_hours_replace(location=location, intervals=intervals)
        conflicts = visits.conflicts(location_id=location.pk)
        return Response(
            {
                "hours": HoursIntervalSerializer(hours, many=True).data,
                "conflicts": AppointmentConflictSerializer(conflicts, many=True).data,
            }
        )


class _UnderParent(ServiceViewSet):
    """A list that lives under one location or surgeon (`/locations/{location_id}/closures/`)."""

    parent_model: type[Location] | type[Surgeon]
    parent_kwarg: str

    @cached_property
    def parent(self) -> Any:
        return get_object_or_404(self.parent_model, pk=self.kwargs[self.parent_kwarg])

    def children(self) -> QuerySet[Any]:
        raise NotImplementedError

    def response_data(self, instance: Any) -> Any:
        """The object, with the visits the change left outside availability (nothing is cancelled)."""
        data = dict(self.get_serializer(instance).data)
        data["conflicts"] = self.conflicts_data()
        return data

    def conflicts_data(self) -> Any:
        conflicts = visits.conflicts(**{self.parent_kwarg: self.parent.pk})
        return AppointmentConflictSerializer(conflicts, many=True).data

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return self.serializer_class.Meta.model.objects.none()  # type: ignore[union-attr]  # ModelSerializers only
        return self.children()


class _DryRunQuerySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(required=False, default=False)


@extend_schema(tags=["locations"])
class ClosureViewSet(_UnderParent):
    serializer_class = ClosureSerializer
    filterset_class = ClosureFilter
    parent_model = Location
    parent_kwarg = "location_id"

    def children(self) -> QuerySet[Closure]:
        return closure_list(location_id=self.parent.pk)

    @extend_schema(
        request=ClosureCreateSerializer,
        responses={201: ClosureWithNoticesSerializer, 200: ClosureWithNoticesSerializer},
        parameters=[
            IDEMPOTENCY_KEY_PARAMETER,
            OpenApiParameter(
                "dry_run", bool, description="As the body's dry_run: 200, nothing saved or sent."
            ),
        ],
        description="Adds a closure and answers the booked visits it leaves outside availability. "
        "With notify_patients, each stranded visit's patient is texted a link to pick a new time. "
        "With dry_run, answers 200 with what would happen (the visits and their texts) and saves "
        "and sends nothing.",
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ClosureCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        query = _DryRunQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        notify, dry_run = data.pop("notify_patients"), data.pop("dry_run") or query.validated_data["dry_run"]
        with transaction.atomic():
            before = {c.appointment.pk for c in visits.conflicts(location_id=self.parent.pk)}
            closure = closure_create(location=self.parent, **data)
            conflicts = visits.conflicts(location_id=self.parent.pk)
            stranded = [c.appointment.pk for c in conflicts if c.appointment.pk not in before]
            notices = (
                patient_notices.stranded_notify(appointment_ids=stranded, dry_run=dry_run)
                if notify or dry_run
                else []
            )
            body = {
                **ClosureSerializer(closure).data,
                "conflicts": AppointmentConflictSerializer(conflicts, many=True).data,
                "notices": notices,
                "dry_run": dry_run,
            }
            if dry_run:
                transaction.set_rollback(True)  # the closure was only a what-if
                return Response({**body, "id": None}, status=status.HTTP_200_OK)
        return Response(body, status=status.HTTP_201_CREATED)

    def service_create(self, data: dict[str, Any]) -> Closure:
        return closure_create(location=self.parent, **data)

    def service_delete(self, instance: Closure) -> None:
        closure_delete(closure=instance)


@extend_schema_view(
    create=extend_schema(responses={201: BlockWithConflictsSerializer}),
    update=extend_schema(responses={200: BlockWithConflictsSerializer}),
    partial_update=extend_schema(responses={200: BlockWithConflictsSerializer}),
    destroy=extend_schema(
        responses={200: ConflictsSerializer},
        description="Answers 200 with the visits the removed block leaves outside availability.",
    ),
)
@extend_schema(tags=["surgeons"])
class BlockViewSet(_UnderParent):
    serializer_class = BlockSerializer
    filterset_class = BlockFilter
    parent_model = Surgeon
    parent_kwarg = "surgeon_id"

    def children(self) -> QuerySet[Block]:
        return block_list(surgeon_id=self.parent.pk)

    def response_data(self, instance: Any) -> Any:
        return {**super().response_data(instance), "warnings": block_warnings(block=instance)}

    def service_create(self, data: dict[str, Any]) -> Block:
        return block_create(surgeon=self.parent, **data)

    def service_update(self, instance: Block, data: dict[str, Any]) -> Block:
        return block_update(block=instance, data=data)

    def service_delete(self, instance: Block) -> None:
        block_delete(block=instance)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.service_delete(self.get_object())
        return Response({"conflicts": self.conflicts_data()}, status=status.HTTP_200_OK)


@extend_schema_view(create=extend_schema(responses={201: TimeOffWithConflictsSerializer}))
@extend_schema(tags=["surgeons"])
class TimeOffViewSet(_UnderParent):
    serializer_class = TimeOffSerializer
    filterset_class = TimeOffFilter
    parent_model = Surgeon
    parent_kwarg = "surgeon_id"

    def children(self) -> QuerySet[TimeOff]:
        return time_off_list(surgeon_id=self.parent.pk)

    def service_create(self, data: dict[str, Any]) -> TimeOff:
        return time_off_create(surgeon=self.parent, **data)

    def service_delete(self, instance: TimeOff) -> None:
        time_off_delete(time_off=instance)
