"""The access report: how long patients of each tier wait, and how often bookings miss their window."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.apis.slots import RangeSerializer, instants
from booking.selectors import ThirdNextAvailable, bookings_by_window, third_next_available
from locations.models import Location
from practice.errors import InvalidInput
from practice.fields import CodeRelatedField
from practice.models import AppointmentType, Surgeon, UrgencyTier
from practice.permissions import IsScheduler

# The type the access measure is taken with unless the request names one.
DEFAULT_ACCESS_TYPE = "new-consultation"


class AccessReportParamsSerializer(RangeSerializer):
    max_days = 366

    appointment_type = CodeRelatedField(
        slug_field="code",
        queryset=AppointmentType.objects.filter(is_active=True),
        required=False,
        help_text=f"Type to measure access with; default {DEFAULT_ACCESS_TYPE} (or the first active type).",
    )


def _measure(entry: ThirdNextAvailable) -> dict[str, Any]:
    slot = entry.slot
    return {"days": entry.days, "slot_start": slot.local_start.isoformat() if slot else None}


_measure_fields: dict[str, serializers.Field] = {
    "days": serializers.IntegerField(
        allow_null=True, help_text="Local calendar days from today; null: none."
    ),
    "slot_start": serializers.DateTimeField(allow_null=True),
}


class AccessReportApi(APIView):
    """For each tier: the third-next-available slot (in days from now) per surgeon and per
    location, and how many bookings made between start and end were inside or outside their
    tier's window."""

    permission_classes = [IsScheduler]

    class OutputSerializer(serializers.Serializer):
        generated_at = serializers.DateTimeField()
        start = serializers.CharField()
        end = serializers.CharField()
        appointment_type = serializers.CharField()
        tiers = inline_serializer(
            "AccessReportTier",
            {
                "tier": serializers.CharField(),
                "max_wait_days": serializers.IntegerField(),
                "surgeons": inline_serializer(
                    "AccessReportSurgeon",
                    {
                        "surgeon": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        **_measure_fields,
                    },
                    many=True,
                ),
                "locations": inline_serializer(
                    "AccessReportLocation",
                    {
                        "location": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        **_measure_fields,
                    },
                    many=True,
                ),
                "bookings_inside_window": serializers.IntegerField(),
                "bookings_outside_window": serializers.IntegerField(),
            },
            many=True,
        )

    @extend_schema(
        parameters=[AccessReportParamsSerializer], responses={200: OutputSerializer}, tags=["reports"]
    )
    def get(self, request: Request) -> Response:
        params = AccessReportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        appointment_type = data.get("appointment_type") or _default_type()
        now = timezone.now()
        start, end = instants(data["start"], data["end"])
        dates_only = not isinstance(data["start"], dt.datetime)
        bookings = bookings_by_window(
            start=start, end=end, location_dates=(data["start"], data["end"]) if dates_only else None
        )
        surgeons = {surgeon.id: str(surgeon) for surgeon in Surgeon.objects.filter(is_active=True)}
        locations = dict(Location.objects.filter(is_active=True).values_list("id", "name"))
        tiers = []
        for tier in UrgencyTier.objects.order_by("-rank"):
            by_surgeon, by_location = third_next_available(
                appointment_type=appointment_type, tier=tier, now=now
            )
            inside, outside = bookings.get(tier.id, (0, 0))
            tiers.append(
                {
                    "tier": tier.code,
                    "max_wait_days": tier.max_wait_days,
                    "surgeons": [
                        {"surgeon": surgeon_id, "name": name, **_measure(by_surgeon[surgeon_id])}
                        for surgeon_id, name in surgeons.items()
                        if surgeon_id in by_surgeon
                    ],
                    "locations": [
                        {"location": location_id, "name": name, **_measure(by_location[location_id])}
                        for location_id, name in locations.items()
                        if location_id in by_location
                    ],
                    "bookings_inside_window": inside,
                    "bookings_outside_window": outside,
                }
            )
        return Response(
            {
                "generated_at": now.isoformat(),
                "start": data["start"].isoformat(),
                "end": data["end"].isoformat(),
                "appointment_type": appointment_type.code,
                "tiers": tiers,
            }
        )


def _default_type() -> AppointmentType:
    active = AppointmentType.objects.filter(is_active=True)
    found = active.filter(code=DEFAULT_ACCESS_TYPE).first() or active.order_by("name", "id").first()
    if found is None:
        raise InvalidInput.for_field("appointment_type", "No active appointment type to measure access with.")
    return found
