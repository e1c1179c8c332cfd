"""Surgeons' weekly working blocks: the rules a block must keep, and writing them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from locations.models import Block, Location, Surgeon
from locations.services.errors import BlockOverlap, raise_field_errors
from practice.errors import InvalidInput
from practice.models import UrgencyTier
from practice.services import model_update


@dataclass(frozen=True)
class BlockTimes:
    weekday: int
    start: dt.time
    end: dt.time
    valid_from: dt.date
    valid_until: dt.date | None

    def overlaps(self, other: BlockTimes) -> bool:
        """Same weekday, overlapping hours and overlapping validity: the surgeon can't be at both."""
        if self.weekday != other.weekday:
            return False
        if not (self.start < other.end and other.start < self.end):
            return False
        starts_before_other_ends = other.valid_until is None or self.valid_from <= other.valid_until
        other_starts_before_self_ends = self.valid_until is None or other.valid_from <= self.valid_until
        return starts_before_other_ends and other_starts_before_self_ends


def block_times(block: Block) -> BlockTimes:
    return BlockTimes(block.weekday, block.start, block.end, block.valid_from, block.valid_until)


def block_errors(times: BlockTimes) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 0 <= times.weekday <= 6:
        errors["weekday"] = "Use 0 (Monday) to 6 (Sunday)."
    if times.end <= times.start:
        errors["end"] = "The block must end after it starts."
    if times.valid_until is not None and times.valid_until < times.valid_from:
        errors["valid_until"] = "Valid until must not be before valid from."
    return errors


def block_overlap_message(other: Block) -> str:
    return (
        f"The surgeon already works {other.get_weekday_display()} "
        f"{other.start:%H:%M}-{other.end:%H:%M} at {other.location} in overlapping dates."
    )


def block_overlapping(*, surgeon_id: int, times: BlockTimes, exclude_id: int | None = None) -> Block | None:
    """The surgeon's stored block this one would overlap, at any location, or None."""
    candidates = Block.objects.filter(
        surgeon_id=surgeon_id, weekday=times.weekday, start__lt=times.end, end__gt=times.start
    ).select_related("location")
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    return next((block for block in candidates if block_times(block).overlaps(times)), None)


BLOCK_FIELDS = (
    "location",
    "weekday",
    "start",
    "end",
    "valid_from",
    "valid_until",
    "reserved_for_tier",
    "release_hours_before",
)


def _block_validate(
    *, surgeon: Surgeon, block: Block, exclude_id: int | None, location_changed: bool
) -> None:
    """Call while holding SELECT FOR UPDATE on the surgeon, so two writes can't both pass.

    A block may not be put at an inactive location, but one already there may still be changed
    (ended, shortened) after the location is deactivated.
    """
    times = block_times(block)
    raise_field_errors(block_errors(times))
    if location_changed and not block.location.is_active:
        raise InvalidInput.for_field("location", "This location is inactive.")
    other = block_overlapping(surgeon_id=surgeon.pk, times=times, exclude_id=exclude_id)
    if other is not None:
        message = block_overlap_message(other)
        raise BlockOverlap(message, fields={"start": [message], "end": [message]}, extra={"block": other.pk})


@transaction.atomic
def block_create(
    *,
    surgeon: Surgeon,
    location: Location,
    weekday: int,
    start: dt.time,
    end: dt.time,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    reserved_for_tier: UrgencyTier | None = None,
    release_hours_before: int = 48,
) -> Block:
    """Add a weekly block; refused if the surgeon works elsewhere (or here) at an overlapping time."""
    surgeon = Surgeon.objects.select_for_update().get(pk=surgeon.pk)
    block = Block(
        surgeon=surgeon,
        location=location,
        weekday=weekday,
        start=start,
        end=end,
        valid_from=valid_from,
        valid_until=valid_until,
        reserved_for_tier=reserved_for_tier,
        release_hours_before=release_hours_before,
    )
    _block_validate(surgeon=surgeon, block=block, exclude_id=None, location_changed=True)
    block.save()
    return block


@transaction.atomic
def block_update(*, block: Block, data: dict[str, Any]) -> Block:
    surgeon = Surgeon.objects.select_for_update().get(pk=block.surgeon_id)
    candidate = Block.objects.get(pk=block.pk)
    for field in BLOCK_FIELDS:
        if field in data:
            setattr(candidate, field, data[field])
    location_changed = "location" in data and data["location"].pk != block.location_id
    _block_validate(surgeon=surgeon, block=candidate, exclude_id=block.pk, location_changed=location_changed)
    return model_update(instance=block, data=data, fields=BLOCK_FIELDS)


def block_delete(*, block: Block) -> None:
    block.delete()
