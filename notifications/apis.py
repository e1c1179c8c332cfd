"""Schedulers' views of SMS: messages and the worklist."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.models import Appointment, Patient
from notifications import selectors
from notifications.models import Message, MessageKind, MessageStatus, WorklistItem
from notifications.worklist import worklist_item_resolve
from practice.audit import AuditedMixin, audit_record
from practice.models import AuditAction
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
class MessageViewSet(
    AuditedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Message]
):
    permission_classes = [IsScheduler]
    serializer_class = MessageOutputSerializer
    filterset_class = MessageFilter
    audit_object_type = "message"

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
    reply_text = serializers.CharField(
        help_text="The text of the patient's reply, for a reply or call-back item; empty otherwise."
    )


@extend_schema_view(get=extend_schema(tags=["sms"]))
class WorklistApi(AuditedMixin, ListAPIView):
    """Replies needing a person, call-back requests, failed texts, and visits in conflict; paged."""

    permission_classes = [IsScheduler]
    serializer_class = WorklistEntrySerializer
    filter_backends: list[Any] = []
    audit_object_type = "worklist_item"

    def audit_object_id(self, obj: selectors.WorklistEntry) -> int | None:
        return obj.item_id if obj.item_id is not None else obj.appointment_id

    def audit_object_type_of(self, obj: selectors.WorklistEntry) -> str:
        return self.audit_object_type if obj.item_id is not None else "appointment"  # a conflict

    def get_queryset(self) -> list[selectors.WorklistEntry]:  # type: ignore[override]  # a list, not a QuerySet: conflicts are computed
        return selectors.worklist_open()


class WorklistResolveApi(APIView):
    """A scheduler dealt with a worklist item: it leaves the list (it stays on record)."""

    permission_classes = [IsScheduler]

    @extend_schema(request=None, responses={200: WorklistEntrySerializer}, tags=["sms"])
    def post(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(WorklistItem.objects.select_related("patient", "message", "inbound"), pk=pk)
        item = worklist_item_resolve(item=item)
        audit_record(request, action=AuditAction.UPDATE, object_type="worklist_item", objects=[item])
        return Response(WorklistEntrySerializer(selectors.worklist_entry(item)).data)
