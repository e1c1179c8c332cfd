"""Access reports: how long each tier waits now (third-next-available) and how often bookings
missed their tier's window."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone as django_timezone

from booking.availability import Slot, zone
from booking.models import Appointment, Referral
from booking.selectors.referrals import referral_days_left, referrals_open
from booking.selectors.slots import slots_free
from locations.models import Block, Location, Surgeon
from practice.models import AppointmentType, UrgencyTier


@dataclass(frozen=True)
class ThirdNextAvailable:
    """The third free slot from now for one surgeon or one location (None: fewer than three
    within the horizon), and how many local calendar days away it is."""

    slot: Slot | None
    days: int | None


# The third-next-available search looks this far ahead, widening in these steps (days).
ACCESS_STEPS_DAYS = (3, 14, 42, 120)


def third_next_available(
    *, appointment_type: AppointmentType, tier: UrgencyTier, now: dt.datetime | None = None
) -> tuple[dict[int, ThirdNextAvailable], dict[int, ThirdNextAvailable]]:
    """Third-next-available slot per surgeon and per location for `tier` (the standard access
    measure), for every active surgeon and location with a current block. A few fixed loads."""
    now = django_timezone.now() if now is None else now
    today = now.date() - dt.timedelta(days=1)
    scheduled = (
        Block.objects.filter(surgeon__is_active=True, location__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by()
        .values_list("surgeon_id", "location_id")
        .distinct()
    )
    pairs = list(scheduled)
    by_surgeon: dict[int, list[Slot]] = {surgeon_id: [] for surgeon_id, _ in pairs}
    by_location: dict[int, list[Slot]] = {location_id: [] for _, location_id in pairs}
    cursor = now
    for days in ACCESS_STEPS_DAYS:
        step_end = now + dt.timedelta(days=days)
        for slot in slots_free(
            appointment_type=appointment_type, tier=tier, start=cursor, end=step_end, now=now
        ):
            for found in (
                by_surgeon.setdefault(slot.surgeon_id, []),
                by_location.setdefault(slot.location_id, []),
            ):
                if len(found) < 3:
                    found.append(slot)
        cursor = step_end
        if all(len(found) >= 3 for found in [*by_surgeon.values(), *by_location.values()]):
            break

    def third(found: list[Slot]) -> ThirdNextAvailable:
        if len(found) < 3:
            return ThirdNextAvailable(slot=None, days=None)
        slot = found[2]
        tz = zone(slot.timezone)
        return ThirdNextAvailable(
            slot=slot, days=(slot.start.astimezone(tz).date() - now.astimezone(tz).date()).days
        )

    return (
        {surgeon_id: third(found) for surgeon_id, found in by_surgeon.items()},
        {location_id: third(found) for location_id, found in by_location.items()},
    )


def bookings_by_window(
    *, start: dt.datetime, end: dt.datetime, location_dates: tuple[dt.date, dt.date] | None = None
) -> dict[int, tuple[int, int]]:
    """Per tier id, (inside, outside) its window: bookings made in [start, end) or, with
    `location_dates`, on those local dates at the visit's location. A rescheduled visit counts
    once, as its latest version. Counted in the database: two queries."""
    if location_dates is None:
        made = Q(booked_at__gte=start, booked_at__lt=end)
    else:
        first, last = location_dates
        made = Q(pk__in=[])
        for timezone in Location.objects.order_by().values_list("timezone", flat=True).distinct():
            tz = zone(timezone)
            made |= Q(
                location__timezone=timezone,
                booked_at__gte=dt.datetime.combine(first, dt.time(0), tzinfo=tz),
                booked_at__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=tz),
            )
    rows = (
        Appointment.objects.filter(made, rescheduled_to__isnull=True)
        .values("tier_id", "within_window")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts: dict[int, list[int]] = {}
    for row in rows:
        counts.setdefault(row["tier_id"], [0, 0])[0 if row["within_window"] else 1] += row["count"]
    return {tier_id: (inside, outside) for tier_id, (inside, outside) in counts.items()}


# The type the access measure is taken with unless the caller names one.
DEFAULT_ACCESS_TYPE = "new-consultation"


def access_type_default() -> AppointmentType | None:
    """DEFAULT_ACCESS_TYPE if active, else the first active type by name; None if none is."""
    active = AppointmentType.objects.filter(is_active=True)
    return active.filter(code=DEFAULT_ACCESS_TYPE).first() or active.order_by("name", "id").first()


@dataclass(frozen=True)
class TierAccess:
    """One tier's line of the access report: the third-next-available slot per active surgeon
    and location that has one scheduled (id, name, measure), and the period's bookings inside
    and outside the tier's window."""

    tier: UrgencyTier
    surgeons: list[tuple[int, str, ThirdNextAvailable]]
    locations: list[tuple[int, str, ThirdNextAvailable]]
    bookings_inside_window: int
    bookings_outside_window: int


def access_report(
    *,
    appointment_type: AppointmentType,
    start: dt.datetime,
    end: dt.datetime,
    location_dates: tuple[dt.date, dt.date] | None = None,
    now: dt.datetime | None = None,
) -> list[TierAccess]:
    """Per tier, most urgent first: how long its patients wait now (third-next-available for
    `appointment_type`) and how often bookings in [start, end) (or, with `location_dates`, on
    those local dates) missed its window."""
    now = django_timezone.now() if now is None else now
    bookings = bookings_by_window(start=start, end=end, location_dates=location_dates)
    surgeons = {surgeon.id: str(surgeon) for surgeon in Surgeon.objects.filter(is_active=True)}
    locations = dict(Location.objects.filter(is_active=True).values_list("id", "name"))
    report = []
    for tier in UrgencyTier.objects.order_by("-rank"):
        by_surgeon, by_location = third_next_available(appointment_type=appointment_type, tier=tier, now=now)
        inside, outside = bookings.get(tier.id, (0, 0))
        report.append(
            TierAccess(
                tier=tier,
                surgeons=[
                    (id_, name, by_surgeon[id_]) for id_, name in surgeons.items() if id_ in by_surgeon
                ],
                locations=[
                    (id_, name, by_location[id_]) for id_, name in locations.items() if id_ in by_location
                ],
                bookings_inside_window=inside,
                bookings_outside_window=outside,
            )
        )
    return report


# The open queue by days left, as the access report counts it: (label, lowest, highest).
QUEUE_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("overdue", None, -1),
    ("0-2", 0, 2),
    ("3-6", 3, 6),
    ("7-13", 7, 13),
    ("14+", 14, None),
)


@dataclass(frozen=True)
class ReferralAccess:
    """Referrals of one tier at one location (None: no clinic named yet): how many arrived in the
    period, how long from arrival to visit (median and 90th percentile, days), the share seen
    within the window, and the open queue now by days left."""

    location_id: int | None
    received: int
    median_days_to_visit: float | None
    p90_days_to_visit: float | None
    seen_within_window: float | None
    open_by_days_left: dict[str, int]


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 1)


def referral_access(
    *,
    start: dt.datetime,
    end: dt.datetime,
    location_dates: tuple[dt.date, dt.date] | None = None,
    now: dt.datetime | None = None,
) -> dict[int, list[ReferralAccess]]:
    """Per tier id, per location: referrals received in [start, end) (or, with `location_dates`,
    on those local dates in the referral's zone), the days from referral to the visit booked from
    it, the share of those visits inside the window, and the open queue by days left. A referral's
    location is its visit's, else its preferred clinic's. Two queries."""
    now = django_timezone.now() if now is None else now
    received = Referral.objects.filter(received_at__gte=start, received_at__lt=end).select_related(
        "appointment", "preferred_location"
    )
    groups: dict[tuple[int, int | None], dict[str, Any]] = {}

    def group(tier_id: int, location_id: int | None) -> dict[str, Any]:
        return groups.setdefault(
            (tier_id, location_id),
            {
                "received": 0,
                "days": [],
                "within": 0,
                "open": dict.fromkeys(label for label, _, _ in QUEUE_BUCKETS),
            },
        )

    for referral in received:
        if location_dates is not None:
            name = (
                referral.preferred_location.timezone
                if referral.preferred_location is not None
                else settings.SMS_DEFAULT_TIMEZONE
            )
            if (
                not location_dates[0]
                <= referral.received_at.astimezone(zone(name)).date()
                <= location_dates[1]
            ):
                continue
        visit = referral.appointment
        line = group(
            referral.tier_id, visit.location_id if visit is not None else referral.preferred_location_id
        )
        line["received"] += 1
        if visit is not None:
            line["days"].append((visit.start - referral.received_at).total_seconds() / 86400)
            line["within"] += visit.start < referral.due_by
    for referral in referrals_open():
        line = group(referral.tier_id, referral.preferred_location_id)
        left = referral_days_left(referral, now=now)
        for label, low, high in QUEUE_BUCKETS:
            if (low is None or left >= low) and (high is None or left <= high):
                line["open"][label] = (line["open"][label] or 0) + 1
                break
    report: dict[int, list[ReferralAccess]] = {}
    for (tier_id, location_id), line in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)
    ):
        days: list[float] = line["days"]
        report.setdefault(tier_id, []).append(
            ReferralAccess(
                location_id=location_id,
                received=line["received"],
                median_days_to_visit=_percentile(days, 0.5),
                p90_days_to_visit=_percentile(days, 0.9),
                seen_within_window=round(line["within"] / len(days), 3) if days else None,
                open_by_days_left={label: count or 0 for label, count in line["open"].items()},
            )
        )
    return report
