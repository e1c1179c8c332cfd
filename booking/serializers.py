"""Booking serializers shared by more than one view (and by other apps' responses)."""

from __future__ import annotations

from rest_framework import serializers

from booking.availability import CONFLICT_REASONS


class SlotSerializer(serializers.Serializer):
    """A free slot; times are ISO 8601 in the location's own offset."""

    surgeon = serializers.IntegerField(source="surgeon_id")
    location = serializers.IntegerField(source="location_id")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reserved_for_tier = serializers.CharField(
        allow_null=True, help_text="The tier this slot is still held for; null once released or never held."
    )


class AppointmentConflictSerializer(serializers.Serializer):
    """A future visit that no longer fits its surgeon's availability, and why."""

    id = serializers.IntegerField(source="appointment.id")
    patient = serializers.IntegerField(source="appointment.patient_id")
    surgeon = serializers.IntegerField(source="appointment.surgeon_id")
    location = serializers.IntegerField(source="appointment.location_id")
    start = serializers.DateTimeField(source="appointment.start")
    end = serializers.DateTimeField(source="appointment.end")
    status = serializers.CharField(
        source="appointment.status", help_text="booked, confirmed, checked_in or completed (active statuses)."
    )
    reason = serializers.ChoiceField(
        choices=CONFLICT_REASONS,
        help_text="inactive, closure, time_off, outside_hours or outside_blocks (the first that applies).",
    )
