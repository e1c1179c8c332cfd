"""Surgeries and their post-operative follow-up windows: record, read and correct a surgery; list
the windows by state."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from booking.models import FollowUpWindow, Patient, Surgery
from booking.selectors import FollowUpState, follow_ups_list, surgeries_list
from booking.services import surgery_record, surgery_update
from locations.models import Surgeon
from practice.audit import AuditedMixin
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.permissions import IsScheduler


class FollowUpOutputSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=list(FollowUpState.ALL), read_only=True)
    patient = serializers.IntegerField(source="surgery.patient_id", read_only=True)
    patient_name = serializers.CharField(source="surgery.patient.__str__", read_only=True)

    class Meta:
        model = FollowUpWindow
        fields = [
            "id",
            "surgery",
            "patient",
            "patient_name",
            "label",
            "opens_on",
            "closes_on",
            "state",
            "appointment",
            "reminders_sent",
            "last_reminded_at",
        ]


class SurgeryInputSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all())
    performed_on = serializers.DateField()
    procedure = serializers.CharField(max_length=200, help_text="Internal; never sent by SMS.")


class SurgeryUpdateInputSerializer(serializers.Serializer):
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all(), required=False)
    performed_on = serializers.DateField(
        required=False,
        help_text="Not after today. A new date re-plans the follow-up windows: a visit outside its "
        "window's new dates no longer fulfils it.",
    )
    procedure = serializers.CharField(
        max_length=200, required=False, help_text="Internal; never sent by SMS."
    )


class SurgeryOutputSerializer(serializers.ModelSerializer):
    follow_ups = serializers.SerializerMethodField()

    class Meta:
        model = Surgery
        fields = ["id", "patient", "surgeon", "performed_on", "procedure", "created_at", "follow_ups"]

    @extend_schema_field(FollowUpOutputSerializer(many=True))
    def get_follow_ups(self, surgery: Surgery) -> list[dict[str, Any]]:
        # Prefetched with their state by surgeries_list().
        return list(FollowUpOutputSerializer(surgery.follow_ups.all(), many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Surgeries on record, newest first", tags=["follow-ups"]),
    create=extend_schema(
        summary="Record a surgery and create its follow-up plan",
        request=SurgeryInputSerializer,
        parameters=[OPENAPI_PARAMETER],
        responses={
            201: SurgeryOutputSerializer,
            422: OpenApiResponse(description="The Idempotency-Key was used with a different request."),
        },
        tags=["follow-ups"],
    ),
    retrieve=extend_schema(summary="A surgery and its follow-up windows", tags=["follow-ups"]),
    partial_update=extend_schema(
        summary="Correct a surgery's procedure, date or surgeon (a new date re-plans its follow-ups)",
        request=SurgeryUpdateInputSerializer,
        responses={200: SurgeryOutputSerializer},
        tags=["follow-ups"],
    ),
)
class SurgeryViewSet(
    AuditedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Surgery],
):
    permission_classes = [IsScheduler]
    serializer_class = SurgeryOutputSerializer
    filterset_fields = ["patient", "surgeon"]
    # Corrections only: a PUT would have to resend the patient, who is not to be changed.
    http_method_names = ["get", "post", "patch", "head", "options"]
    audit_object_type = "surgery"

    def get_queryset(self) -> QuerySet[Surgery]:
        return surgeries_list()

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SurgeryInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        surgery = surgery_record(**incoming.validated_data, recorded_by=request.user)  # type: ignore[arg-type]
        self.audit_created(surgery)
        surgery = surgeries_list().get(pk=surgery.pk)
        return Response(SurgeryOutputSerializer(surgery).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SurgeryUpdateInputSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        surgery = surgery_update(surgery=self.get_object(), data=dict(incoming.validated_data))
        return Response(SurgeryOutputSerializer(surgeries_list().get(pk=surgery.pk)).data)


class FollowUpFilter(django_filters.FilterSet):
    patient = django_filters.ModelChoiceFilter(field_name="surgery__patient", queryset=Patient.objects.all())
    surgery = django_filters.ModelChoiceFilter(queryset=Surgery.objects.all())
    state = django_filters.ChoiceFilter(choices=[(state, state) for state in FollowUpState.ALL])

    class Meta:
        model = FollowUpWindow
        fields = ["patient", "surgery", "state"]


@extend_schema_view(
    list=extend_schema(
        summary="Follow-up windows after surgery and their state (upcoming, open, booked, overdue)",
        tags=["follow-ups"],
    )
)
class FollowUpViewSet(AuditedMixin, mixins.ListModelMixin, viewsets.GenericViewSet[FollowUpWindow]):
    permission_classes = [IsScheduler]
    serializer_class = FollowUpOutputSerializer
    filterset_class = FollowUpFilter
    audit_object_type = "follow_up"

    def get_queryset(self) -> QuerySet[FollowUpWindow]:
        return follow_ups_list()
