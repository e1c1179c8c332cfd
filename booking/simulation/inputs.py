"""What an access simulation is asked: the period, the demand, and the reserve policies to compare."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from practice.errors import InvalidInput

CONFIGURED, NO_RESERVE, RESERVE = "configured", "none", "reserve"
UTILISATION_TARGETS = (70, 90, 100)
DEFAULT_TIER_MIX = {"standard": 0.8, "urgent": 0.2}
_RESERVE = re.compile(r"^reserve:(\d{1,3}):(\d{1,4})$")


@dataclass(frozen=True)
class ReservePolicy:
    """How much of each block is held for the most urgent tier in the replay: as the blocks are
    configured, none at all, or `percent` of each block (its end) released `release_hours`
    before its start."""

    kind: str
    percent: int = 0
    release_hours: int = 0

    @property
    def label(self) -> str:
        if self.kind == RESERVE:
            return f"reserve {self.percent}% released {self.release_hours}h before"
        return "as configured" if self.kind == CONFIGURED else "no reserve (first come, first served)"

    @property
    def code(self) -> str:
        return f"reserve:{self.percent}:{self.release_hours}" if self.kind == RESERVE else self.kind


def policy_parse(text: str, *, field_name: str = "policies") -> ReservePolicy:
    """`configured`, `none` or `reserve:X:Y` (X% of each block, released Y hours before)."""
    text = text.strip().lower()
    if text in (CONFIGURED, NO_RESERVE):
        return ReservePolicy(kind=text)
    match = _RESERVE.match(text)
    if match is None:
        raise InvalidInput.for_field(
            field_name, f"{text!r} is not a policy: use configured, none or reserve:PERCENT:HOURS."
        )
    percent, hours = int(match[1]), int(match[2])
    if not 0 <= percent <= 100:
        raise InvalidInput.for_field(field_name, "A reserve is 0 to 100 percent of each block.")
    return ReservePolicy(kind=RESERVE, percent=percent, release_hours=hours)


@dataclass(frozen=True)
class SimulationInputs:
    """One simulation: referrals arrive for `weeks` (after `warmup_weeks` that fill the calendar
    and are not measured), either `arrivals_per_week` or enough to ask for `utilisation` percent
    of the bookable hours; each is booked into the earliest fitting slot for its tier."""

    weeks: int = 26
    warmup_weeks: int = 2
    arrivals_per_week: float | None = None
    utilisation: int | None = 90
    tier_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIER_MIX))
    seed: int = 1
    policies: tuple[ReservePolicy, ...] = (ReservePolicy(kind=CONFIGURED), ReservePolicy(kind=NO_RESERVE))
    cancel_rate: float = 0.08
    no_show_rate: float = 0.05
    waitlist: bool = True
    appointment_type: str | None = None
    start: dt.date | None = None
    # How far past the period a late referral may still be booked.
    horizon_weeks: int = 12

    def __post_init__(self) -> None:
        if not 1 <= self.weeks <= 104:
            raise InvalidInput.for_field("weeks", "Simulate 1 to 104 weeks.")
        if not 0 <= self.warmup_weeks <= 26:
            raise InvalidInput.for_field("warmup_weeks", "A warm-up is 0 to 26 weeks.")
        if (self.arrivals_per_week is None) == (self.utilisation is None):
            raise InvalidInput.for_field(
                "arrivals_per_week", "Give arrivals per week or a utilisation target, not both."
            )
        if self.arrivals_per_week is not None and not 0 < self.arrivals_per_week <= 100_000:
            raise InvalidInput.for_field(
                "arrivals_per_week", "Arrivals per week are above 0 and at most 100000."
            )
        if self.utilisation is not None and not 1 <= self.utilisation <= 150:
            raise InvalidInput.for_field("utilisation", "A utilisation target is 1 to 150 percent.")
        if (
            not self.tier_mix
            or any(share < 0 for share in self.tier_mix.values())
            or sum(self.tier_mix.values()) <= 0
        ):
            raise InvalidInput.for_field(
                "tier_mix", "Give each tier a share of 0 or more, adding up to more than 0."
            )
        if not self.policies:
            raise InvalidInput.for_field("policies", "Name at least one policy.")
        for name in ("cancel_rate", "no_show_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise InvalidInput.for_field(name, "A rate is 0 or more and below 1.")
        if not 1 <= self.horizon_weeks <= 52:
            raise InvalidInput.for_field("horizon_weeks", "The booking horizon is 1 to 52 weeks.")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["policies"] = [policy.code for policy in self.policies]
        data["start"] = None if self.start is None else self.start.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimulationInputs:
        values = dict(data)
        values["policies"] = tuple(
            policy_parse(text) for text in values.get("policies", (CONFIGURED, NO_RESERVE))
        )
        if values.get("start"):
            values["start"] = dt.date.fromisoformat(values["start"])
        return cls(**values)
