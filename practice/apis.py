from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.permissions import user_is_administrator, user_is_scheduler
from practice.selectors import health_check


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
