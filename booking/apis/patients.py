"""Patients: schedulers create, find, correct and (when entered by mistake) delete them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from booking.filters import PatientFilter
from booking.models import Patient
from booking.services import PossibleDuplicate, patient_create, patient_delete, patient_update
from practice.audit import AuditedMixin, audit_record
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.models import AuditAction
from practice.permissions import IsScheduler
from practice.phones import MobileNumberField


class PatientSerializer(serializers.ModelSerializer):
    phone = MobileNumberField(
        help_text="Mobile number, national for the practice's country (PHONE_REGION), as in (312) 555-0142 "
        "or 312-555-0142, or international, as in +13125550142; always returned in E.164."
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "sms_consent",
            "sms_opted_out_at",
            "record_number",
            "preferred_location",
            "language",
            "created_at",
            "confirm_new",
        ]
        read_only_fields = ["id", "sms_opted_out_at", "created_at"]
        extra_kwargs = {"language": {"help_text": "Texts and the visit page are in this language (BCP 47)."}}

    confirm_new = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="On create: true to create the patient even though a possible duplicate is on record.",
    )


@extend_schema_view(
    list=extend_schema(summary="List or search patients (by name, phone or record number)"),
    retrieve=extend_schema(summary="A patient"),
    create=extend_schema(
        summary="Create a patient (409 `possible_duplicate` with the matches, unless confirm_new)",
        parameters=[OPENAPI_PARAMETER],
        responses={
            201: PatientSerializer,
            409: OpenApiResponse(
                description="`possible_duplicate`: a patient with the same name and date of birth, or "
                "phone and date of birth, is on record; `matches` lists them. Send confirm_new=true to "
                "create anyway."
            ),
        },
    ),
    update=extend_schema(summary="Replace a patient's details"),
    partial_update=extend_schema(summary="Change some of a patient's details"),
    destroy=extend_schema(
        summary="Delete a patient entered by mistake (409 when they have appointments)",
        responses={
            204: None,
            409: OpenApiResponse(
                description="`patient_has_appointments`: visits or surgeries are on record for the patient."
            ),
        },
    ),
)
@extend_schema(tags=["patients"])
class PatientViewSet(
    AuditedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsScheduler]
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    queryset = Patient.objects.all()
    audit_object_type = "patient"

    def audit_patient_id(self, obj: Patient) -> int:
        return obj.pk

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            patient = patient_create(**serializer.validated_data)
        except PossibleDuplicate as duplicate:
            # The matches are patient data shown to this user: audited as reads.
            audit_record(
                request,
                action=AuditAction.READ,
                object_type="patient",
                objects=duplicate.matches,
                patient_id_of=lambda match: match.pk,
                shown_in_refusal=True,
            )
            raise
        self.audit_created(patient)
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        serializer = self.get_serializer(patient, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = {name: value for name, value in serializer.validated_data.items() if name != "confirm_new"}
        patient = patient_update(patient=patient, data=data)
        return Response(self.get_serializer(patient).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient_delete(patient=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
