"""Schedulers' views of SMS: messages, the worklist, surgeries and their follow-up windows."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.models import Appointment, FollowUpWindow, Patient, Surgery
from booking.services import surgery_record
from locations.models import Surgeon
from notifications import selectors
from notifications.models import Message, MessageKind, MessageStatus, WorklistItem
from notifications.worklist import worklist_item_resolve
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.permissions import IsScheduler

# --- Messages ------------------------------------------------------------------------------------


class MessageFilter(django_filters.FilterSet):
    patient = django_filters.ModelChoiceFilter(queryset=Patient.objects.all())
    appointment = django_filters.ModelChoiceFilter(queryset=Appointment.objects.all())
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices)
    kind = django_filters.ChoiceFilter(choices=MessageKind.choices)

    class Meta:
        model = Message
        fields = ["patient", "appointment", "status", "kind"]


class MessageOutputSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.__str__", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "patient",
            "patient_name",
            "appointment",
            "follow_up",
            "kind",
            "status",
            "suppressed_reason",
            "to",
            "body",
            "due_at",
            "attempts",
            "provider_sid",
            "error_code",
            "created_at",
            "sent_at",
            "delivered_at",
        ]


@extend_schema_view(
    list=extend_schema(
        summary="Texts to patients, newest first",
        description="A text not sent because the patient opted out has status `suppressed`.",
        tags=["sms"],
    ),
    retrieve=extend_schema(summary="One text to a patient", tags=["sms"]),
)
class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Message]):
    permission_classes = [IsScheduler]
    serializer_class = MessageOutputSerializer
    filterset_class = MessageFilter

    def get_queryset(self) -> QuerySet[Message]:
        return selectors.messages_list()


# --- Worklist ------------------------------------------------------------------------------------


class WorklistEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item_id", allow_null=True, help_text="Empty for conflicts.")
    kind = serializers.ChoiceField(choices=["call_back", "reply", "failed_message", "conflict"])
    summary = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)
    patient = serializers.IntegerField(source="patient_id", allow_null=True)
    patient_name = serializers.CharField()
    appointment = serializers.IntegerField(source="appointment_id", allow_null=True)
    message = serializers.IntegerField(source="message_id", allow_null=True)


@extend_schema_view(get=extend_schema(tags=["sms"]))
class WorklistApi(ListAPIView):
    """Replies needing a person, call-back requests, failed texts, and visits in conflict; paged."""

    permission_classes = [IsScheduler]
    serializer_class = WorklistEntrySerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> list[selectors.WorklistEntry]:  # type: ignore[override]  # a list, not a QuerySet: conflicts are computed
        return selectors.worklist_open()


class WorklistResolveApi(APIView):
    """A scheduler dealt with a worklist item: it leaves the list (it stays on record)."""

    permission_classes = [IsScheduler]

    @extend_schema(request=None, responses={200: WorklistEntrySerializer}, tags=["sms"])
    def post(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(WorklistItem.objects.select_related("patient", "message"), pk=pk)
        item = worklist_item_resolve(item=item)
        return Response(WorklistEntrySerializer(selectors.worklist_entry(item)).data)


# --- Surgeries and follow-ups --------------------------------------------------------------------


class FollowUpOutputSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=list(selectors.FollowUpState.ALL), read_only=True)
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


class SurgeryOutputSerializer(serializers.ModelSerializer):
    follow_ups = serializers.SerializerMethodField()

    class Meta:
        model = Surgery
        fields = ["id", "patient", "surgeon", "performed_on", "procedure", "created_at", "follow_ups"]

    @extend_schema_field(FollowUpOutputSerializer(many=True))
    def get_follow_ups(self, surgery: Surgery) -> list[dict[str, Any]]:
        # Prefetched with their state by selectors.surgeries_list().
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
)
class SurgeryViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Surgery]):
    permission_classes = [IsScheduler]
    serializer_class = SurgeryOutputSerializer
    filterset_fields = ["patient", "surgeon"]

    def get_queryset(self) -> QuerySet[Surgery]:
        return selectors.surgeries_list()

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SurgeryInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        surgery = surgery_record(**incoming.validated_data, recorded_by=request.user)  # type: ignore[arg-type]
        surgery = selectors.surgeries_list().get(pk=surgery.pk)
        return Response(SurgeryOutputSerializer(surgery).data, status=status.HTTP_201_CREATED)


class FollowUpFilter(django_filters.FilterSet):
    patient = django_filters.ModelChoiceFilter(field_name="surgery__patient", queryset=Patient.objects.all())
    surgery = django_filters.ModelChoiceFilter(queryset=Surgery.objects.all())
    state = django_filters.ChoiceFilter(choices=[(state, state) for state in selectors.FollowUpState.ALL])

    class Meta:
        model = FollowUpWindow
        fields = ["patient", "surgery", "state"]


@extend_schema_view(
    list=extend_schema(
        summary="Follow-up windows after surgery and their state (upcoming, open, booked, overdue)",
        tags=["follow-ups"],
    )
)
class FollowUpViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[FollowUpWindow]):
    permission_classes = [IsScheduler]
    serializer_class = FollowUpOutputSerializer
    filterset_class = FollowUpFilter

    def get_queryset(self) -> QuerySet[FollowUpWindow]:
        return selectors.follow_ups_list()
