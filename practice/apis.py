from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.idempotency import OPENAPI_PARAMETER as IDEMPOTENCY_KEY_PARAMETER
from practice.idempotency import idempotent
from practice.models import AppointmentType, AuditEntry, UrgencyTier
from practice.permissions import (
    IsAdministrator,
    SchedulerReadsAdministratorWrites,
    user_is_administrator,
    user_is_scheduler,
)
from practice.selectors import (
    AppointmentTypeFilter,
    AuditEntryFilter,
    UrgencyTierFilter,
    appointment_type_list,
    audit_entries,
    health_check,
    urgency_tier_list,
)
from practice.services import (
    appointment_type_create,
    appointment_type_delete,
    appointment_type_update,
    urgency_tier_create,
    urgency_tier_delete,
    urgency_tier_update,
)


class HealthApi(APIView):
    """Liveness for load balancers: no authentication and no personal data."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    _check = inline_serializer(
        "HealthCheck", {"ok": serializers.BooleanField(), "error": serializers.CharField(required=False)}
    )
    _out = inline_serializer(
        "Health",
        {"status": serializers.ChoiceField(["ok", "unavailable"]), "database": _check, "broker": _check},
    )

    @extend_schema(responses={200: _out, 503: _out}, tags=["health"])
    def get(self, request: Request) -> Response:
        checks = health_check()
        healthy = all(check["ok"] for check in checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", **checks},
            status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


# What the API root links to: its key, and the URL name it reverses.
API_ROOT_LINKS = {
    "auth-token": "token-obtain",
    "me": "me",
    "locations": "location-list",
    "surgeons": "surgeon-list",
    "appointment-types": "appointment-type-list",
    "urgency-tiers": "urgency-tier-list",
    "slots": "slot-list",
    "slots-earliest": "slot-earliest",
    "patients": "patient-list",
    "appointments": "appointment-list",
    "waitlist": "waitlist-entry-list",
    "surgeries": "surgery-list",
    "follow-ups": "follow-up-list",
    "messages": "message-list",
    "worklist": "worklist",
    "conflicts": "conflict-list",
    "reports-access": "report-access",
    "audit": "audit-entry-list",
    "schema": "schema",
    "docs": "docs",
}


class ApiRootApi(APIView):
    """The API's entry point: absolute links to its collections, the schema and the docs.

    Readable without logging in, like the schema: it holds only URLs, no patient data."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    _out = inline_serializer(
        "ApiRoot",
        {"links": inline_serializer("ApiRootLinks", dict.fromkeys(API_ROOT_LINKS, serializers.URLField()))},
    )

    @extend_schema(responses={200: _out}, tags=["root"], auth=[])
    def get(self, request: Request) -> Response:
        links = {key: request.build_absolute_uri(reverse(name)) for key, name in API_ROOT_LINKS.items()}
        return Response({"links": links})


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token (header `Authorization: Token <token>`)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: OutputSerializer, 400: OpenApiResponse(description="Wrong credentials.")},
        tags=["auth"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class MeApi(APIView):
    """The logged-in user and their role, so a client knows what to offer."""

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        is_administrator = serializers.BooleanField()
        is_scheduler = serializers.BooleanField()

    @extend_schema(responses={200: OutputSerializer}, tags=["auth"])
    def get(self, request: Request) -> Response:
        user = request.user
        return Response(
            {
                "username": user.get_username(),
                "is_administrator": user_is_administrator(user),
                "is_scheduler": user_is_scheduler(user),
            }
        )


# --- Reference data: appointment types, urgency tiers -----------------------------------------


def destroy_refused_while_in_use(what: str) -> Any:
    """The schema of a delete that answers 409 while the row is in use."""
    return extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(
                description=(
                    f"`has_future_appointments`: the {what} has visits still to come; `in_use`: other "
                    "records (past visits, blocks) still refer to it. Deactivate it instead."
                )
            ),
        }
    )


class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reads through the selector's queryset; each write parses, calls one service, serialises.

    Schedulers read, administrators write. Subclasses name the three services.
    """

    permission_classes = [SchedulerReadsAdministratorWrites]

    def service_create(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def service_update(self, instance: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def service_delete(self, instance: Any) -> None:
        raise NotImplementedError

    def response_data(self, instance: Any) -> Any:
        return self.get_serializer(instance).data

    # A retried create (a dropped connection) must not make a second location, block or tier.
    @extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.service_create(dict(serializer.validated_data))
        return Response(self.response_data(instance), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        instance = self.service_update(instance, dict(serializer.validated_data))
        return Response(self.response_data(instance))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.service_delete(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppointmentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentType
        fields = ["id", "code", "name", "duration_minutes", "buffer_minutes", "min_notice_hours", "is_active"]


@extend_schema_view(destroy=destroy_refused_while_in_use("appointment type"))
@extend_schema(tags=["appointment types"])
class AppointmentTypeViewSet(ServiceViewSet):
    serializer_class = AppointmentTypeSerializer
    filterset_class = AppointmentTypeFilter
    queryset = appointment_type_list()

    def service_create(self, data: dict[str, Any]) -> AppointmentType:
        return appointment_type_create(**data)

    def service_update(self, instance: AppointmentType, data: dict[str, Any]) -> AppointmentType:
        return appointment_type_update(appointment_type=instance, data=data)

    def service_delete(self, instance: AppointmentType) -> None:
        appointment_type_delete(appointment_type=instance)


class UrgencyTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = UrgencyTier
        fields = ["id", "code", "name", "max_wait_days", "rank"]
        extra_kwargs = {"rank": {"help_text": "Higher is more urgent."}}


@extend_schema_view(destroy=destroy_refused_while_in_use("urgency tier"))
@extend_schema(tags=["urgency tiers"])
class UrgencyTierViewSet(ServiceViewSet):
    serializer_class = UrgencyTierSerializer
    filterset_class = UrgencyTierFilter
    queryset = urgency_tier_list()

    def service_create(self, data: dict[str, Any]) -> UrgencyTier:
        return urgency_tier_create(**data)

    def service_update(self, instance: UrgencyTier, data: dict[str, Any]) -> UrgencyTier:
        return urgency_tier_update(tier=instance, data=data)

    def service_delete(self, instance: UrgencyTier) -> None:
        urgency_tier_delete(tier=instance)


# --- The PHI audit trail ---------------------------------------------------------------------


class AuditEntrySerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "user",
            "username",
            "action",
            "object_type",
            "object_id",
            "patient_id",
            "request_id",
            "ip",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Who read or changed which patient's data, newest first"),
    retrieve=extend_schema(summary="One audit entry"),
)
@extend_schema(tags=["audit"])
class AuditEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[AuditEntry]
):
    """Administrators only, and read-only: the trail is append-only, so no method here changes it."""

    permission_classes = [IsAdministrator]
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    queryset = audit_entries()
