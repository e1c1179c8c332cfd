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
from booking.selectors import DEFAULT_ACCESS_TYPE, ThirdNextAvailable, access_report, access_type_default
from booking.selectors.reports import QUEUE_BUCKETS, referral_access
from locations.models import Location
from practice.errors import InvalidInput
from practice.fields import CodeRelatedField
from practice.models import AppointmentType
from practice.permissions import IsScheduler


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
    location, how many bookings made between start and end were inside or outside their tier's
    window, and per location the referrals received in the period (days from referral to visit,
    share seen within the window) and the open queue by days left."""

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
                "referrals": inline_serializer(
                    "AccessReportReferrals",
                    {
                        "location": serializers.IntegerField(
                            allow_null=True,
                            help_text="The visit's clinic, else the preferred one; null: none yet.",
                        ),
                        "name": serializers.CharField(),
                        "received": serializers.IntegerField(help_text="Referrals received in the period."),
                        "median_days_to_visit": serializers.FloatField(
                            allow_null=True, help_text="Of those with a visit: days from referral to visit."
                        ),
                        "p90_days_to_visit": serializers.FloatField(allow_null=True),
                        "seen_within_window": serializers.FloatField(
                            allow_null=True,
                            help_text="Share (0-1) of those visits before the referral's due_by.",
                        ),
                        "open_by_days_left": inline_serializer(
                            "AccessReportQueue",
                            {label: serializers.IntegerField() for label, _, _ in QUEUE_BUCKETS},
                            help_text="The open queue now, by days left (whatever the period).",
                        ),
                    },
                    many=True,
                ),
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
        appointment_type = data.get("appointment_type") or access_type_default()
        if appointment_type is None:
            raise InvalidInput.for_field(
                "appointment_type", "No active appointment type to measure access with."
            )
        now = timezone.now()
        start, end = instants(data["start"], data["end"])
        dates_only = not isinstance(data["start"], dt.datetime)
        report = access_report(
            appointment_type=appointment_type,
            start=start,
            end=end,
            location_dates=(data["start"], data["end"]) if dates_only else None,
            now=now,
        )
        referrals = referral_access(
            start=start, end=end, location_dates=(data["start"], data["end"]) if dates_only else None, now=now
        )
        names = dict(Location.objects.values_list("id", "name"))
        return Response(
            {
                "generated_at": now.isoformat(),
                "start": data["start"].isoformat(),
                "end": data["end"].isoformat(),
                "appointment_type": appointment_type.code,
                "tiers": [
                    {
                        "tier": line.tier.code,
                        "max_wait_days": line.tier.max_wait_days,
                        "surgeons": [
                            {"surgeon": id_, "name": name, **_measure(measure)}
                            for id_, name, measure in line.surgeons
                        ],
                        "locations": [
                            {"location": id_, "name": name, **_measure(measure)}
                            for id_, name, measure in line.locations
                        ],
                        "bookings_inside_window": line.bookings_inside_window,
                        "bookings_outside_window": line.bookings_outside_window,
                        "referrals": [
                            {
                                "location": access.location_id,
                                "name": names.get(access.location_id, "") if access.location_id else "",
                                "received": access.received,
                                "median_days_to_visit": access.median_days_to_visit,
                                "p90_days_to_visit": access.p90_days_to_visit,
                                "seen_within_window": access.seen_within_window,
                                "open_by_days_left": access.open_by_days_left,
                            }
                            for access in referrals.get(line.tier.id, [])
                        ],
                    }
                    for line in report
                ],
            }
        )
