"""The waitlist: patients who want an earlier visit, served by tier rank, then age."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from booking.filters import WaitlistEntryFilter
from booking.models import WaitlistEntry
from booking.services import waitlist_entry_create, waitlist_entry_delete, waitlist_entry_update
from practice.audit import AuditedMixin
from practice.fields import CodeRelatedField
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.models import AppointmentType, UrgencyTier
from practice.permissions import IsScheduler


class WaitlistEntrySerializer(serializers.ModelSerializer):
    tier = CodeRelatedField(slug_field="code", queryset=UrgencyTier.objects.all())
    appointment_type = CodeRelatedField(slug_field="code", queryset=AppointmentType.objects.all())

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "patient",
            "tier",
            "appointment_type",
            "surgeon",
            "location",
            "earliest_date",
            "latest_date",
            "status",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


@extend_schema_view(
    list=extend_schema(summary="The waitlist, most urgent tier first, then oldest"),
    retrieve=extend_schema(summary="A waitlist entry"),
    create=extend_schema(summary="Put a patient on the waitlist", parameters=[OPENAPI_PARAMETER]),
    update=extend_schema(summary="Replace a waitlist entry"),
    partial_update=extend_schema(summary="Change a waitlist entry (say, status withdrawn)"),
    destroy=extend_schema(summary="Remove a waitlist entry", responses={204: None}),
)
@extend_schema(tags=["waitlist"])
class WaitlistEntryViewSet(
    AuditedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsScheduler]
    serializer_class = WaitlistEntrySerializer
    filterset_class = WaitlistEntryFilter
    audit_object_type = "waitlist_entry"

    def get_queryset(self) -> QuerySet[WaitlistEntry]:
        return WaitlistEntry.objects.select_related("tier", "appointment_type")

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("status", None)  # a new entry is waiting
        entry = waitlist_entry_create(**data)
        self.audit_created(entry)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        serializer = self.get_serializer(entry, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        entry = waitlist_entry_update(entry=entry, data=serializer.validated_data)
        return Response(self.get_serializer(entry).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        waitlist_entry_delete(entry=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
