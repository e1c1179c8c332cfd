"""Booking serializers shared by more than one view."""

from __future__ import annotations

from rest_framework import serializers


class SlotSerializer(serializers.Serializer):
    """A free slot; times are ISO 8601 in the location's own offset."""

    surgeon = serializers.IntegerField(source="surgeon_id")
    location = serializers.IntegerField(source="location_id")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reserved_for_tier = serializers.CharField(
        allow_null=True, help_text="The tier this slot is still held for; null once released or never held."
    )
