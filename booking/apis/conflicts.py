"""Future visits that no longer fit availability (after a closure, time off or new hours)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from booking.selectors import AppointmentConflict
from booking.services import visit_conflicts_current
from locations.models import Location, Surgeon
from locations.serializers import AppointmentConflictSerializer
from practice.audit import AuditedMixin
from practice.permissions import IsScheduler


class ConflictFilterSerializer(serializers.Serializer):
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, help_text="Only visits at this location."
    )
    surgeon = serializers.PrimaryKeyRelatedField(
        queryset=Surgeon.objects.all(), required=False, help_text="Only this surgeon's visits."
    )


@extend_schema_view(get=extend_schema(parameters=[ConflictFilterSerializer], tags=["conflicts"]))
class ConflictListApi(AuditedMixin, ListAPIView):
    """Future active visits in a closure or time off, or outside hours or blocks, by start."""

    permission_classes = [IsScheduler]
    serializer_class = AppointmentConflictSerializer
    filter_backends: list[Any] = []
    audit_object_type = "appointment"

    def audit_object_id(self, obj: AppointmentConflict) -> int:
        return obj.appointment.pk

    def audit_patient_id(self, obj: AppointmentConflict) -> int:
        return obj.appointment.patient_id

    def get_queryset(self) -> list[AppointmentConflict]:  # type: ignore[override]  # a list, not a QuerySet: conflicts are computed
        params = ConflictFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        location, surgeon = params.validated_data.get("location"), params.validated_data.get("surgeon")
        return visit_conflicts_current(
            location_id=location.id if location else None, surgeon_id=surgeon.id if surgeon else None
        )
