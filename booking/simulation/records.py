"""What a replay works on and produces: plain records, no behaviour."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from booking.availability import Calendar, SlotRules
from booking.simulation.inputs import ReservePolicy


@dataclass(frozen=True)
class Tier:
    code: str
    rank: int
    max_wait_days: int


@dataclass(frozen=True)
class Templates:
    """The practice as loaded once: its availability (never changed), tiers, the simulated
    visit's rules (no tier rank), and the period: warm-up from `start`, measured from
    `measure_start` to `measure_end`, bookable until `horizon_end`."""

    calendar: Calendar
    tiers: tuple[Tier, ...]
    rules: SlotRules
    start: dt.datetime
    measure_start: dt.datetime
    measure_end: dt.datetime
    horizon_end: dt.datetime
    zone_name: str
    appointment_type: str = ""


@dataclass(frozen=True)
class Arrival:
    """A synthetic referral and its fate's random draws, shared by every policy replayed."""

    index: int
    tier: Tier
    at: dt.datetime
    cancels: bool
    cancel_fraction: float
    no_show: bool


@dataclass(slots=True)
class Visit:
    """Where one referral stands in one replay."""

    status: str = "waiting"  # booked, seen, no_show, cancelled, unbooked
    surgeon_id: int = 0
    location_id: int = 0
    start: dt.datetime | None = None
    held: bool = False  # booked into a reserved slot while it was still held
    reserved: bool = False  # booked into a reserved block's time at all
    moves: int = 0
    version: int = 0


@dataclass
class Capacity:
    """Visits of the simulated type that fit, packed earliest first, in the measured period."""

    visits: int = 0
    reserved_visits: int = 0
    block_hours: float = 0.0


@dataclass
class ReplayResult:
    policy: ReservePolicy
    arrivals: list[Arrival]
    visits: list[Visit]
    capacity: Capacity
    searches: int = 0
