"""Reserve policies applied to copies of the blocks (the practice's own blocks are untouched)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from booking.availability import BlockSpec, SlotRules
from booking.simulation.inputs import CONFIGURED, NO_RESERVE, ReservePolicy
from booking.simulation.records import Tier


def _plus(time: dt.time, minutes: int) -> dt.time:
    return (dt.datetime.combine(dt.date.min, time) + dt.timedelta(minutes=minutes)).time()


def _minutes(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def policy_blocks(
    blocks: Sequence[BlockSpec], *, policy: ReservePolicy, top: Tier, rules: SlotRules
) -> list[BlockSpec]:
    """Copies of `blocks` under `policy`. A percentage reserve is rounded to whole visits of the
    simulated type (each visit's time rounded up to the grid, as the engine packs them) and held
    at the end of each block, so that the open part and the held part each pack as many visits
    as they can: a split at an arbitrary minute would waste a visit in most blocks."""
    if policy.kind == CONFIGURED:
        return list(blocks)
    if policy.kind == NO_RESERVE:
        return [
            dataclasses.replace(block, reserved_tier_code=None, reserved_tier_rank=None) for block in blocks
        ]
    grid = int(rules.grid.total_seconds() // 60)
    needed = int(rules.needed.total_seconds() // 60)
    step = -(-needed // grid) * grid
    result = []
    for block in blocks:
        length = _minutes(block.start, block.end)
        held_visits = round(length * policy.percent / 100 / step)
        held = min(length, held_visits * step)
        open_part = dataclasses.replace(block, reserved_tier_code=None, reserved_tier_rank=None)
        if held <= 0:
            result.append(open_part)
            continue
        held_part = dataclasses.replace(
            block,
            reserved_tier_code=top.code,
            reserved_tier_rank=top.rank,
            release_hours_before=policy.release_hours,
        )
        if held >= length:
            result.append(held_part)
            continue
        split = _plus(block.start, length - held)
        result.append(dataclasses.replace(open_part, end=split))
        result.append(dataclasses.replace(held_part, start=split))
    return result
