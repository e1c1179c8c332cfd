"""Appointments: book, list, read, and move through the FHIR lifecycle.

Every POST accepts an Idempotency-Key header: a retry with the same key and body answers with
the first response instead of booking twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import services
from booking.availability import zone
from booking.filters import AppointmentFilter
from booking.models import Appointment, Patient, Referral
from booking.selectors import TextsWithheld, appointments_with_details, patient_texts
from booking.serializers import SlotSerializer
from locations.models import Location, Surgeon
from practice.audit import AuditedMixin, audit_record
from practice.fields import AwareDateTimeField, CodeRelatedField
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.models import AppointmentType, AuditAction, UrgencyTier
from practice.permissions import IsScheduler

CONFLICT = OpenApiResponse(
    response=inline_serializer(
        "AppointmentConflictError",
        {
            "error": inline_serializer(
                "AppointmentConflictErrorBody",
                {
                    "code": serializers.ChoiceField(
                        [
                            *services.SlotUnavailable.codes,
                            services.PatientUnavailable.code,
                            services.OutsideTierWindow.code,
                            services.InvalidTransition.code,
                            services.HoldExpired.code,
                            services.ReferralNotOpen.code,
                        ]
                    ),
                    "message": serializers.CharField(),
                    "fields": serializers.DictField(
                        child=serializers.ListField(child=serializers.CharField())
                    ),
                    "next_slots": SlotSerializer(
                        many=True,
                        required=False,
                        help_text="With a slot refusal (taken, outside_hours, ...): the next free slots.",
                    ),
                    "reserved_for_tier": serializers.CharField(
                        required=False, help_text="With reserved_for_tier: the tier the time is held for."
                    ),
                    "release_at": serializers.DateTimeField(
                        required=False, help_text="With reserved_for_tier: when the hold ends."
                    ),
                    "window_end": serializers.DateTimeField(
                        required=False, help_text="With outside_tier_window: when the tier's window closes."
                    ),
                    "status": serializers.CharField(
                        required=False, help_text="With invalid_transition: the appointment's current status."
                    ),
                    "rescheduled_to": serializers.IntegerField(
                        required=False,
                        help_text="With invalid_transition on confirm: the visit was rescheduled; "
                        "the id of the visit that replaced it, the one to confirm.",
                    ),
                },
            )
        },
    ),
    description="The slot is refused, with a code saying why (`taken`, `outside_hours`, `location_closed`, "
    "`surgeon_off`, `not_in_block`, `off_grid`, `reserved_for_tier`, `min_notice`, `in_past`, "
    "`surgeon_not_at_location`) and `next_slots`; the patient is busy; the start is past the "
    "tier's window, or the status does not allow this (naming the current status).",
)
KEY_REUSED = OpenApiResponse(description="The Idempotency-Key was used with a different request.")


class AppointmentOutputSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.__str__", read_only=True)
    appointment_type: serializers.SlugRelatedField[AppointmentType] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    tier: serializers.SlugRelatedField[UrgencyTier] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    booked_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    rescheduled_to: serializers.PrimaryKeyRelatedField[Appointment] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    start_local = serializers.SerializerMethodField(
        help_text="The start in the location's own zone, ISO 8601 with its offset (`start` is UTC)."
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "status",
            "patient",
            "patient_name",
            "surgeon",
            "location",
            "appointment_type",
            "tier",
            "start",
            "start_local",
            "end",
            "busy_until",
            "reason",
            "within_window",
            "window_override_reason",
            "booked_by",
            "booked_at",
            "confirmed_at",
            "cancelled_at",
            "cancellation_reason",
            "late_cancellation",
            "rescheduled_from",
            "rescheduled_to",
            "updated_at",
        ]
        read_only_fields = fields

    def get_start_local(self, appointment: Appointment) -> str:
        return appointment.start.astimezone(zone(appointment.location.timezone)).isoformat()


class TextsOutputSerializer(serializers.Serializer):
    will_send = serializers.BooleanField(
        help_text="Whether the patient will be texted about this visit (confirmation, reminders)."
    )
    withheld = serializers.ChoiceField(
        choices=list(TextsWithheld.ALL),
        allow_null=True,
        help_text="Why no texts will be sent: `no_consent` (the patient has not consented to SMS) or "
        "`opted_out` (the patient replied STOP); null when they will be.",
    )
    notice = serializers.CharField(help_text="A sentence for the scheduler, saying the above.")


class AppointmentBookedOutputSerializer(AppointmentOutputSerializer):
    """A visit just booked or moved, and whether the patient will hear about it by text."""

    texts = serializers.SerializerMethodField()

    class Meta(AppointmentOutputSerializer.Meta):
        fields = [*AppointmentOutputSerializer.Meta.fields, "texts"]
        read_only_fields = fields

    @extend_schema_field(TextsOutputSerializer)
    def get_texts(self, appointment: Appointment) -> dict[str, Any]:
        return dict(TextsOutputSerializer(patient_texts(patient=appointment.patient)).data)


def _output(
    appointment: Appointment, serializer: type[AppointmentOutputSerializer] = AppointmentOutputSerializer
) -> dict[str, Any]:
    return serializer(appointments_with_details().get(pk=appointment.pk)).data


def _audit_update(request: Request, appointment: Appointment) -> None:
    audit_record(request, action=AuditAction.UPDATE, object_type="appointment", objects=[appointment])


class AppointmentCreateInputSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    appointment_type = CodeRelatedField(slug_field="code", queryset=AppointmentType.objects.all())
    tier = CodeRelatedField(slug_field="code", queryset=UrgencyTier.objects.all())
    start = AwareDateTimeField()
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Internal; never sent by SMS."
    )
    window_override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when the start is past the tier's window.",
    )
    hold = serializers.IntegerField(
        source="hold_id",
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="The id of a hold on this slot (POST /holds/): the held slot is booked and the hold "
        "used up. An expired or released hold is a 409 hold_expired.",
    )
    referral = serializers.PrimaryKeyRelatedField(
        queryset=Referral.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Book from this referral (new or triaged, the same patient's): the tier's window "
        "ends at its due_by, and it becomes scheduled.",
    )


@extend_schema_view(
    list=extend_schema(summary="List appointments (filter by patient, surgeon, location, status, dates)"),
    retrieve=extend_schema(summary="An appointment"),
)
@extend_schema(tags=["appointments"])
class AppointmentViewSet(
    AuditedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsScheduler]
    serializer_class = AppointmentOutputSerializer
    filterset_class = AppointmentFilter
    audit_object_type = "appointment"

    def get_queryset(self) -> QuerySet[Appointment]:
        return appointments_with_details()

    @extend_schema(
        summary="Book an appointment",
        request=AppointmentCreateInputSerializer,
        parameters=[OPENAPI_PARAMETER],
        responses={201: AppointmentBookedOutputSerializer, 409: CONFLICT, 422: KEY_REUSED},
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AppointmentCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_book(**serializer.validated_data, booked_by=request.user)
        self.audit_created(appointment)
        return Response(
            _output(appointment, AppointmentBookedOutputSerializer), status=status.HTTP_201_CREATED
        )


class _TransitionApi(APIView):
    """POST appointments/{id}/<action>/ with no body: one step of the lifecycle."""

    permission_classes = [IsScheduler]
    transition: Callable[..., Appointment]

    @extend_schema(
        request=None,
        parameters=[OPENAPI_PARAMETER],
        responses={200: AppointmentOutputSerializer, 409: CONFLICT, 422: KEY_REUSED},
        tags=["appointments"],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        appointment = get_object_or_404(Appointment, pk=pk)
        appointment = type(self).transition(appointment=appointment)
        _audit_update(request, appointment)
        return Response(_output(appointment))


@extend_schema_view(
    post=extend_schema(
        summary="The patient confirmed: booked → confirmed (a confirmed visit answers 200 unchanged)",
        description="Idempotent: confirming a confirmed visit answers 200 with the visit and writes "
        "nothing. A rescheduled visit is a 409 `invalid_transition` with `rescheduled_to`, the id of the "
        "visit that replaced it.",
    )
)
class AppointmentConfirmApi(_TransitionApi):
    transition = staticmethod(services.appointment_confirm)


@extend_schema_view(post=extend_schema(summary="The patient arrived: booked or confirmed → checked_in"))
class AppointmentCheckInApi(_TransitionApi):
    transition = staticmethod(services.appointment_check_in)


@extend_schema_view(post=extend_schema(summary="The visit happened: checked_in → completed"))
class AppointmentCompleteApi(_TransitionApi):
    transition = staticmethod(services.appointment_complete)


@extend_schema_view(post=extend_schema(summary="The patient did not come: booked or confirmed → no_show"))
class AppointmentNoShowApi(_TransitionApi):
    transition = staticmethod(services.appointment_no_show)


class AppointmentCancelApi(APIView):
    permission_classes = [IsScheduler]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(help_text="Why the visit is cancelled; internal.")

    @extend_schema(
        summary="Cancel a booked or confirmed visit (late when within 24 hours of its start)",
        request=InputSerializer,
        parameters=[OPENAPI_PARAMETER],
        responses={200: AppointmentOutputSerializer, 409: CONFLICT, 422: KEY_REUSED},
        tags=["appointments"],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        appointment = get_object_or_404(Appointment, pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_cancel(appointment=appointment, **serializer.validated_data)
        _audit_update(request, appointment)
        return Response(_output(appointment))


class AppointmentRescheduleApi(APIView):
    permission_classes = [IsScheduler]

    class InputSerializer(serializers.Serializer):
        start = AwareDateTimeField()
        surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all(), required=False)
        location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False)
        appointment_type = CodeRelatedField(
            slug_field="code", queryset=AppointmentType.objects.all(), required=False
        )
        window_override_reason = serializers.CharField(required=False, allow_blank=True, default="")
        hold = serializers.IntegerField(
            source="hold_id",
            required=False,
            allow_null=True,
            default=None,
            min_value=1,
            help_text="The id of a hold on the new slot (POST /holds/): the visit moves into it and the "
            "hold is used up. An expired or released hold is a 409 hold_expired.",
        )

    @extend_schema(
        summary="Move a visit: a new appointment, and the old one cancelled with a link (or nothing changes)",
        request=InputSerializer,
        parameters=[OPENAPI_PARAMETER],
        responses={201: AppointmentBookedOutputSerializer, 409: CONFLICT, 422: KEY_REUSED},
        tags=["appointments"],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        appointment = get_object_or_404(Appointment, pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = services.appointment_reschedule(
            appointment=appointment, rescheduled_by=request.user, **serializer.validated_data
        )
        _audit_update(request, appointment)
        if new.pk != appointment.pk:
            audit_record(request, action=AuditAction.CREATE, object_type="appointment", objects=[new])
        return Response(_output(new, AppointmentBookedOutputSerializer), status=status.HTTP_201_CREATED)
