"""Serializers for locations and surgeons' templates; field names are the API's contract."""

from __future__ import annotations

from typing import Any

from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from booking.serializers import AppointmentConflictSerializer
from locations.models import Block, Closure, Location, OpeningHours, TimeOff
from practice.fields import AwareDateTimeField, CodeRelatedField
from practice.models import UrgencyTier

WALL_CLOCK = "%H:%M"


class LocationSerializer(serializers.ModelSerializer):
    phone = PhoneNumberField(required=False, allow_blank=True)

    class Meta:
        model = Location
        fields = ["id", "name", "address", "phone", "timezone", "is_active"]
        # The service checks the zone, so the error carries its own code.
        extra_kwargs: dict[str, dict[str, Any]] = {"timezone": {"validators": []}}


class HoursIntervalSerializer(serializers.ModelSerializer):
    opens = serializers.TimeField(format=WALL_CLOCK)
    closes = serializers.TimeField(format=WALL_CLOCK)

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]


class ClosureSerializer(serializers.ModelSerializer):
    start_time = serializers.TimeField(format=WALL_CLOCK, required=False, allow_null=True)
    end_time = serializers.TimeField(format=WALL_CLOCK, required=False, allow_null=True)

    class Meta:
        model = Closure
        fields = ["id", "location", "start_date", "end_date", "start_time", "end_time", "reason"]
        read_only_fields = ["location"]


class BlockSerializer(serializers.ModelSerializer):
    start = serializers.TimeField(format=WALL_CLOCK)
    end = serializers.TimeField(format=WALL_CLOCK)
    reserved_for_tier = CodeRelatedField(
        slug_field="code",
        queryset=UrgencyTier.objects.all(),
        required=False,
        allow_null=True,
        help_text="An urgency tier's code; until release_hours_before the start, only that tier may book.",
    )

    class Meta:
        model = Block
        fields = [
            "id",
            "surgeon",
            "location",
            "weekday",
            "start",
            "end",
            "valid_from",
            "valid_until",
            "reserved_for_tier",
            "release_hours_before",
        ]
        read_only_fields = ["surgeon"]


class TimeOffSerializer(serializers.ModelSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()

    class Meta:
        model = TimeOff
        fields = ["id", "surgeon", "start", "end", "reason"]
        read_only_fields = ["surgeon"]


# --- Write answers: the object, plus the booked visits the change left outside availability ----

_CONFLICTS_HELP = (
    "Booked future visits that now fall outside availability (nothing is cancelled): "
    "schedulers move them; GET /api/v1/conflicts/ lists them all."
)


class HoursReplaceOutputSerializer(serializers.Serializer):
    hours = HoursIntervalSerializer(many=True)
    conflicts = AppointmentConflictSerializer(many=True, help_text=_CONFLICTS_HELP)


class LocationWithConflictsSerializer(LocationSerializer):
    conflicts = AppointmentConflictSerializer(
        many=True,
        read_only=True,
        help_text=_CONFLICTS_HELP + " A new zone moves every local time; deactivating makes all inactive.",
    )

    class Meta(LocationSerializer.Meta):
        fields = [*LocationSerializer.Meta.fields, "conflicts"]


class ClosureWithConflictsSerializer(ClosureSerializer):
    conflicts = AppointmentConflictSerializer(many=True, read_only=True, help_text=_CONFLICTS_HELP)

    class Meta(ClosureSerializer.Meta):
        fields = [*ClosureSerializer.Meta.fields, "conflicts"]


class BlockWithConflictsSerializer(BlockSerializer):
    conflicts = AppointmentConflictSerializer(many=True, read_only=True, help_text=_CONFLICTS_HELP)

    class Meta(BlockSerializer.Meta):
        fields = [*BlockSerializer.Meta.fields, "conflicts"]


class TimeOffWithConflictsSerializer(TimeOffSerializer):
    conflicts = AppointmentConflictSerializer(many=True, read_only=True, help_text=_CONFLICTS_HELP)

    class Meta(TimeOffSerializer.Meta):
        fields = [*TimeOffSerializer.Meta.fields, "conflicts"]


class ConflictsSerializer(serializers.Serializer):
    conflicts = AppointmentConflictSerializer(many=True, help_text=_CONFLICTS_HELP)
