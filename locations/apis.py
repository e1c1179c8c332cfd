"""Locations with their hours and closures; surgeons with their blocks and time off."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from locations import visits
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
    ClosureSerializer,
    ClosureWithConflictsSerializer,
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
from practice.apis import ServiceViewSet, destroy_refused_while_in_use
from practice.permissions import SchedulerReadsAdministratorWrites


@extend_schema_view(
    destroy=destroy_refused_while_in_use("location"),
    update=extend_schema(responses={200: LocationWithConflictsSerializer}),
    partial_update=extend_schema(responses={200: LocationWithConflictsSerializer}),
)
@extend_schema(tags=["locations"])
class LocationViewSet(ServiceViewSet):
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    queryset = location_list()

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
    update=extend_schema(responses={200: SurgeonWithConflictsSerializer}),
    partial_update=extend_schema(responses={200: SurgeonWithConflictsSerializer}),
)
@extend_schema(tags=["surgeons"])
class SurgeonViewSet(ServiceViewSet):
    serializer_class = SurgeonSerializer
    filterset_class = SurgeonFilter
    queryset = surgeon_list()

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


@extend_schema_view(create=extend_schema(responses={201: ClosureWithConflictsSerializer}))
@extend_schema(tags=["locations"])
class ClosureViewSet(_UnderParent):
    serializer_class = ClosureSerializer
    filterset_class = ClosureFilter
    parent_model = Location
    parent_kwarg = "location_id"

    def children(self) -> QuerySet[Closure]:
        return closure_list(location_id=self.parent.pk)

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
