"""Access simulations (issue 18): an administrator asks for one, a worker runs it, the result and
its chart are read back by id."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from booking.apis.appointments import KEY_REUSED
from booking.models import SimulationRun, SimulationStatus
from booking.services.simulations import simulation_request
from booking.simulation import DEFAULT_TIER_MIX, SimulationInputs, policy_parse
from practice.errors import InvalidInput
from practice.idempotency import OPENAPI_PARAMETER, idempotent
from practice.models import AppointmentType, UrgencyTier
from practice.permissions import IsAdministrator


class SimulationInputSerializer(serializers.Serializer):
    weeks = serializers.IntegerField(default=26, min_value=1, max_value=104)
    warmup_weeks = serializers.IntegerField(default=2, min_value=0, max_value=26)
    arrivals_per_week = serializers.FloatField(required=False, min_value=0.1, max_value=100_000)
    utilisation = serializers.IntegerField(
        required=False, min_value=1, max_value=150, help_text="Percent of bookable hours; default 90."
    )
    tier_mix = serializers.DictField(
        child=serializers.FloatField(min_value=0),
        required=False,
        help_text=f"Share per tier code; default {DEFAULT_TIER_MIX}.",
    )
    seed = serializers.IntegerField(default=1, min_value=0)
    policies = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        min_length=1,
        max_length=8,
        help_text="Each `configured`, `none` or `reserve:PERCENT:HOURS`; default configured and none.",
    )
    cancel_rate = serializers.FloatField(default=0.08, min_value=0, max_value=0.95)
    no_show_rate = serializers.FloatField(default=0.05, min_value=0, max_value=0.95)
    waitlist = serializers.BooleanField(default=True)
    appointment_type = serializers.SlugRelatedField(
        slug_field="code", queryset=AppointmentType.objects.filter(is_active=True), required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "arrivals_per_week" in attrs and "utilisation" in attrs:
            raise InvalidInput.for_field("utilisation", "Give arrivals_per_week or utilisation, not both.")
        mix = attrs.get("tier_mix") or DEFAULT_TIER_MIX
        unknown = set(mix) - set(UrgencyTier.objects.values_list("code", flat=True))
        if unknown:
            raise InvalidInput.for_field("tier_mix", f"Unknown tiers: {', '.join(sorted(unknown))}.")
        return attrs

    def inputs(self) -> SimulationInputs:
        data = self.validated_data
        return SimulationInputs(
            weeks=data["weeks"],
            warmup_weeks=data["warmup_weeks"],
            arrivals_per_week=data.get("arrivals_per_week"),
            utilisation=None if "arrivals_per_week" in data else data.get("utilisation", 90),
            tier_mix=dict(data.get("tier_mix") or DEFAULT_TIER_MIX),
            seed=data["seed"],
            policies=tuple(policy_parse(text) for text in data.get("policies") or ("configured", "none")),
            cancel_rate=data["cancel_rate"],
            no_show_rate=data["no_show_rate"],
            waitlist=data["waitlist"],
            appointment_type=data["appointment_type"].code if "appointment_type" in data else None,
        )


class SimulationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.IntegerField(help_text="Percent done.")
    inputs = serializers.JSONField()
    result = serializers.JSONField(
        allow_null=True, help_text="Per policy and tier: share within window, median and p90 days, ..."
    )
    error = serializers.CharField()
    chart = serializers.CharField(allow_null=True, help_text="The PNG chart's address, once done.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def _run_data(run: SimulationRun, request: Request) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "progress": run.progress,
        "inputs": run.inputs,
        "result": run.result,
        "error": run.error,
        "chart": (
            reverse("simulation-chart", kwargs={"pk": run.pk}, request=request)
            if run.status == SimulationStatus.DONE
            else None
        ),
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


class SimulationCreateApi(APIView):
    """Ask for an access simulation: synthetic referrals replayed against a copy of the
    practice's templates under each reserve policy. Answers 202 at once; a worker runs it, and
    GET on its address shows the progress and then the result."""

    permission_classes = [IsAdministrator]

    @extend_schema(
        request=SimulationInputSerializer,
        parameters=[OPENAPI_PARAMETER],
        responses={202: SimulationOutputSerializer, 422: KEY_REUSED},
        tags=["reports"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        params = SimulationInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        run = simulation_request(inputs=params.inputs(), requested_by=request.user)
        return Response(_run_data(run, request), status=status.HTTP_202_ACCEPTED)


class SimulationDetailApi(APIView):
    """One access simulation: its status and progress, and once done its result."""

    permission_classes = [IsAdministrator]

    @extend_schema(responses={200: SimulationOutputSerializer}, tags=["reports"])
    def get(self, request: Request, pk: int) -> Response:
        run = get_object_or_404(SimulationRun.objects.defer("chart_png"), pk=pk)
        return Response(_run_data(run, request))


class PngRenderer(BaseRenderer):
    media_type = "image/png"
    format = "png"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        # Errors (401, 403, 404) are JSON whatever was asked for.
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class SimulationChartApi(APIView):
    """The finished simulation's chart: per tier, the share seen by each day after referral,
    one line per policy."""

    permission_classes = [IsAdministrator]
    renderer_classes = [JSONRenderer, PngRenderer]

    @extend_schema(
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The chart."),
        },
        tags=["reports"],
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        run = get_object_or_404(SimulationRun, pk=pk, chart_png__isnull=False)
        assert run.chart_png is not None  # noqa: S101 - filtered above
        return HttpResponse(bytes(run.chart_png), content_type="image/png")
