"""Referrals: the scheduler's queue. Create, list (`?status=open`: the queue, by due date, with
days left and the earliest fitting slot), read with history, triage and close."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from booking import services
from booking.availability import Slot, slot_data
from booking.filters import ReferralFilter
from booking.models import OPEN_REFERRAL_STATUSES, Patient, Referral, ReferralCloseReason
from booking.selectors import referral_days_left, referrals_earliest_slots, referrals_with_details
from locations.models import Location, Surgeon
from practice.audit import AuditedMixin
from practice.fields import AwareDateTimeField, CodeRelatedField
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.models import AppointmentType, UrgencyTier
from practice.permissions import IsScheduler


class ReferralEarliestSlotSerializer(serializers.Serializer):
    surgeon = serializers.IntegerField()
    location = serializers.IntegerField()
    start = serializers.DateTimeField(help_text="In the location's own offset.")
    end = serializers.DateTimeField()
    reserved_for_tier = serializers.CharField(allow_null=True)
    within_window = serializers.BooleanField(help_text="Whether it starts before the referral's due_by.")


class ReferralOutputSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.__str__", read_only=True)
    tier: serializers.SlugRelatedField[UrgencyTier] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    appointment_type: serializers.SlugRelatedField[AppointmentType] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    changed_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    days_left = serializers.SerializerMethodField(
        help_text="Whole local days to the last day of the window: 0 on it, negative when overdue."
    )
    earliest_slot = serializers.SerializerMethodField(
        help_text="In the queue (open referrals of a list): the earliest free slot for its type and "
        "tier, at its preferred clinic and with its preferred surgeon if named; null otherwise."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "patient",
            "patient_name",
            "tier",
            "appointment_type",
            "received_at",
            "source",
            "preferred_location",
            "preferred_surgeon",
            "notes",
            "status",
            "close_reason",
            "due_by",
            "days_left",
            "earliest_slot",
            "triaged_at",
            "appointment",
            "changed_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_days_left(self, referral: Referral) -> int:
        return referral_days_left(referral, now=self.context.get("now") or timezone.now())

    @extend_schema_field(ReferralEarliestSlotSerializer(allow_null=True))
    def get_earliest_slot(self, referral: Referral) -> dict[str, Any] | None:
        slot: Slot | None = self.context.get("earliest", {}).get(referral.pk)
        if slot is None:
            return None
        return {**slot_data(slot), "within_window": slot.start < referral.due_by}


class ReferralHistorySerializer(serializers.Serializer):
    changed_at = serializers.DateTimeField(source="history_date")
    changed_by = serializers.CharField(source="history_user.username", allow_null=True, default=None)
    status = serializers.CharField()
    tier = serializers.CharField(source="tier.code")
    due_by = serializers.DateTimeField()
    close_reason = serializers.CharField()


class ReferralDetailSerializer(ReferralOutputSerializer):
    history = serializers.SerializerMethodField(help_text="Every change, newest first: who and when.")

    class Meta(ReferralOutputSerializer.Meta):
        fields = [*ReferralOutputSerializer.Meta.fields, "history"]
        read_only_fields = fields

    @extend_schema_field(ReferralHistorySerializer(many=True))
    def get_history(self, referral: Referral) -> list[dict[str, Any]]:
        rows = referral.history.select_related("history_user", "tier").order_by(
            "-history_date", "-history_id"
        )
        return list(ReferralHistorySerializer(rows, many=True).data)


class ReferralCreateSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    tier = CodeRelatedField(slug_field="code", queryset=UrgencyTier.objects.all(), help_text="Tier code.")
    appointment_type = CodeRelatedField(
        slug_field="code", queryset=AppointmentType.objects.all(), help_text="Appointment type code."
    )
    received_at = AwareDateTimeField(required=False, help_text="Default now; never in the future.")
    # DRF's metaclass takes declared fields off the class, so this does not shadow Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Referring clinician or practice.",
    )
    preferred_location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True, default=None
    )
    preferred_surgeon = serializers.PrimaryKeyRelatedField(
        queryset=Surgeon.objects.all(), required=False, allow_null=True, default=None
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Internal; never sent by SMS."
    )


class ReferralTriageSerializer(serializers.Serializer):
    tier = CodeRelatedField(slug_field="code", queryset=UrgencyTier.objects.all(), required=False)
    appointment_type = CodeRelatedField(
        slug_field="code", queryset=AppointmentType.objects.all(), required=False
    )
    preferred_location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True
    )
    preferred_surgeon = serializers.PrimaryKeyRelatedField(
        queryset=Surgeon.objects.all(), required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class ReferralCloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReferralCloseReason.choices)


NOT_OPEN = OpenApiResponse(description="`referral_not_open`: the referral is not waiting in the queue.")


@extend_schema_view(
    list=extend_schema(
        summary="List referrals; `?status=open` is the queue, by due date, each with its earliest slot"
    ),
    retrieve=extend_schema(summary="A referral, with its history", responses=ReferralDetailSerializer),
)
@extend_schema(tags=["referrals"])
class ReferralViewSet(
    AuditedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsScheduler]
    serializer_class = ReferralOutputSerializer
    filterset_class = ReferralFilter
    audit_object_type = "referral"

    def get_queryset(self) -> Any:
        return referrals_with_details().order_by("due_by", "id")

    def get_serializer_class(self) -> Any:
        return ReferralDetailSerializer if self.action == "retrieve" else ReferralOutputSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        now = timezone.now()
        earliest = referrals_earliest_slots(
            referrals=[referral for referral in rows if referral.status in OPEN_REFERRAL_STATUSES], now=now
        )
        data = ReferralOutputSerializer(rows, many=True, context={"earliest": earliest, "now": now}).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        summary="Record a referral (status new); the tier's clock starts at received_at",
        request=ReferralCreateSerializer,
        parameters=[OPENAPI_PARAMETER],
        responses={201: ReferralOutputSerializer},
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ReferralCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_create(**serializer.validated_data, created_by=request.user)
        self.audit_created(referral)
        return Response(self._output(referral), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Triage a new or triaged referral (a new tier or clinic recomputes due_by)",
        request=ReferralTriageSerializer,
        responses={200: ReferralOutputSerializer, 409: NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def triage(self, request: Request, pk: int) -> Response:
        referral = self.get_object()
        serializer = ReferralTriageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_triage(
            referral=referral, **serializer.validated_data, triaged_by=request.user
        )
        return Response(self._output(referral))

    @extend_schema(
        summary="Close a referral (booked elsewhere, declined, unreachable, duplicate)",
        request=ReferralCloseSerializer,
        responses={200: ReferralOutputSerializer, 409: NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: int) -> Response:
        referral = self.get_object()
        serializer = ReferralCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_close(
            referral=referral, reason=serializer.validated_data["reason"], closed_by=request.user
        )
        return Response(self._output(referral))

    def _output(self, referral: Referral) -> dict[str, Any]:
        return dict(ReferralOutputSerializer(referrals_with_details().get(pk=referral.pk)).data)
