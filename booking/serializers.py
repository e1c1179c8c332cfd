"""Booking serializers shared by more than one view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from rest_framework import serializers

from booking.availability import Slot, zone


class SlotSerializer(serializers.Serializer):
    """A free slot; times are ISO 8601 in the location's own offset."""

    surgeon = serializers.IntegerField(source="surgeon_id")
    location = serializers.IntegerField(source="location_id")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reserved_for_tier = serializers.CharField(
        allow_null=True, help_text="The tier this slot is still held for; null once released or never held."
    )


def slot_data(slot: Slot) -> dict[str, Any]:
    """What SlotSerializer renders, built directly: search answers hold thousands of slots."""
    return slots_data([slot])[0]


def slots_data(slots: Iterable[Slot]) -> list[dict[str, Any]]:
    """slot_data for many slots. Surgeons share start times, so each instant is rendered in
    each zone once."""
    rendered: dict[tuple[dt.datetime, str], str] = {}

    def local(instant: dt.datetime, timezone: str) -> str:
        key = (instant, timezone)
        text = rendered.get(key)
        if text is None:
            text = rendered[key] = instant.astimezone(zone(timezone)).isoformat()
        return text

    return [
        {
            "surgeon": slot.surgeon_id,
            "location": slot.location_id,
            "start": local(slot.start, slot.timezone),
            "end": local(slot.end, slot.timezone),
            "reserved_for_tier": slot.reserved_for_tier,
        }
        for slot in slots
    ]
