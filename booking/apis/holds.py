"""Holds: keep a slot for a few minutes while a booking is completed, then book it with the
hold's id (POST /appointments/ with `hold`) or give it back (DELETE)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from booking import services
from booking.apis.appointments import CONFLICT, KEY_REUSED
from booking.models import Hold, Patient, Referral
from locations.models import Location, Surgeon
from practice.audit import AuditedMixin
from practice.fields import AwareDateTimeField, CodeRelatedField
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.models import AppointmentType, UrgencyTier
from practice.permissions import IsScheduler


class HoldOutputSerializer(serializers.ModelSerializer):
    appointment_type: serializers.SlugRelatedField[AppointmentType] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    tier: serializers.SlugRelatedField[UrgencyTier] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Hold
        fields = [
            "id",
            "surgeon",
            "location",
            "appointment_type",
            "tier",
            "patient",
            "referral",
            "window_override_reason",
            "start",
            "end",
            "expires_at",
            "created_at",
        ]
        read_only_fields = fields


class HoldCreateInputSerializer(serializers.Serializer):
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    appointment_type = CodeRelatedField(slug_field="code", queryset=AppointmentType.objects.all())
    tier = CodeRelatedField(slug_field="code", queryset=UrgencyTier.objects.all())
    start = AwareDateTimeField()
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional: only a booking for this patient may then use the hold. A time the patient "
        "already has a visit at is a 409 patient_unavailable.",
    )
    referral = serializers.PrimaryKeyRelatedField(
        queryset=Referral.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional: hold for a booking from this referral (new or triaged; the patient is the "
        "referral's): the tier's window ends at its due_by. The booking inherits it.",
    )
    window_override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when the start is past the tier's window (else 409 outside_tier_window); "
        "the booking of the hold inherits it.",
    )


@extend_schema_view(
    retrieve=extend_schema(summary="A hold (404 once booked, released or expired)"),
    destroy=extend_schema(summary="Release a hold: its slot is free again at once", responses={204: None}),
)
@extend_schema(tags=["holds"])
class HoldViewSet(AuditedMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsScheduler]
    serializer_class = HoldOutputSerializer
    audit_object_type = "hold"

    def get_queryset(self) -> QuerySet[Hold]:
        # An expired hold is gone, whether or not a later hold has deleted its row yet.
        return Hold.objects.filter(expires_at__gt=timezone.now()).select_related("appointment_type", "tier")

    @extend_schema(
        summary="Hold a free slot for HOLD_MINUTES (default 5): search stops offering it; book it "
        "with POST /appointments/ naming the hold",
        request=HoldCreateInputSerializer,
        parameters=[OPENAPI_PARAMETER],
        responses={
            201: HoldOutputSerializer,
            400: OpenApiResponse(description="Invalid input, or an inactive surgeon, location or type."),
            409: CONFLICT,
            422: KEY_REUSED,
        },
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = HoldCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hold = services.hold_create(**serializer.validated_data, held_by=request.user)
        self.audit_created(hold)
        return Response(HoldOutputSerializer(hold).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Hold) -> None:
        services.hold_release(hold=instance)
