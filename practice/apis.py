from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.errors import error_body
from practice.idempotency import OPENAPI_PARAMETER as IDEMPOTENCY_KEY_PARAMETER
from practice.idempotency import idempotent
from practice.logins import (
    TooManyAttempts,
    login_failure_record,
    login_failures_clear,
    login_lockout_check,
    token_create,
    token_revoke,
    tokens_revoke_all,
)
from practice.models import AppointmentType, AuditEntry, AuthToken, UrgencyTier
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
    "slots-check": "slot-check",
    "patients": "patient-list",
    "referrals": "referral-list",
    "appointments": "appointment-list",
    "holds": "hold-list",
    "waitlist": "waitlist-entry-list",
    "surgeries": "surgery-list",
    "follow-ups": "follow-up-list",
    "messages": "message-list",
    "worklist": "worklist",
    "conflicts": "conflict-list",
    "reports-access": "report-access",
    "reports-simulate": "simulation-create",
    "audit": "audit-entry-list",
    "fhir-metadata": "fhir-metadata",
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


def _client_ip(request: Request) -> str:
    """The client's address: the socket's, or behind TRUSTED_PROXY_COUNT proxies of ours the
    entry the outermost of them appended to X-Forwarded-For. Entries left of it are whatever the
    client sent, and a lockout keyed on them could be dodged with a new one each time."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return str(request.META.get("REMOTE_ADDR") or "")


class TokenObtainApi(APIView):
    """Exchange a username and password for a new API token (header `Authorization: Token <token>`).

    Each login gets its own token; it lapses after AUTH_TOKEN_IDLE_HOURS unused and
    AUTH_TOKEN_MAX_DAYS after login. Five refused logins within fifteen minutes, for one username
    or from one address, answer 429 with Retry-After until the oldest of them is fifteen minutes
    old, even for the right password."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Wrong credentials."),
            429: OpenApiResponse(
                description="`too_many_attempts`: too many refused logins; the Retry-After header "
                "(and `retry_after`) give the seconds to wait."
            ),
        },
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                description="Seconds until a login may be tried again.",
            )
        ],
        tags=["auth"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        username, ip = str(data.get("username") or ""), _client_ip(request)
        try:
            login_lockout_check(username=username, ip=ip)
        except TooManyAttempts as locked:
            return self._locked_out(request, locked)
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if username and data.get("password"):
                login_failure_record(username=username, ip=ip)
            raise exceptions.ValidationError(serializer.errors)
        login_failures_clear(username=username)
        issued = token_create(user=serializer.validated_data["user"])
        return Response({"token": issued.secret, "expires_at": issued.expires_at})

    def _locked_out(self, request: Request, locked: TooManyAttempts) -> Response:
        return Response(
            error_body(locked.code, locked.message, **locked.extra),
            status=locked.status_code,
            headers={"Retry-After": str(locked.retry_after_seconds)},
        )


class LogoutApi(APIView):
    """Revoke the token this request carries; the user's other devices stay logged in."""

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """Revoke every token of the user: every device is logged out."""

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request: Request) -> Response:
        tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
