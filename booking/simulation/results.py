"""What a replay shows, per policy and tier: the share seen within the tier's window, median and
p90 days from referral to visit, reserved hours released unused, surgeon utilisation."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from booking.availability import zone
from booking.simulation.records import ReplayResult, Templates


def _percentile(sorted_days: list[float], share: float) -> float | None:
    """Nearest-rank percentile; None when it falls on a referral never booked (infinite)."""
    if not sorted_days:
        return None
    value = sorted_days[max(0, math.ceil(share * len(sorted_days)) - 1)]
    return None if math.isinf(value) else value


def policy_summary(*, templates: Templates, result: ReplayResult) -> dict[str, Any]:
    """One policy's figures over the measured referrals (those arriving after the warm-up)."""
    hours_per_visit = templates.rules.needed.total_seconds() / 3600
    tiers: dict[str, Any] = {}
    for tier in sorted(templates.tiers, key=lambda tier: -tier.rank):
        days: list[float] = []
        histogram: Counter[int] = Counter()
        counts = Counter[str]()
        moved = 0
        for arrival, visit in zip(result.arrivals, result.visits, strict=True):
            if arrival.tier != tier or not templates.measure_start <= arrival.at < templates.measure_end:
                continue
            counts[visit.status] += 1
            if visit.status == "cancelled":
                continue  # withdrawn: neither seen in nor out of the window
            if visit.start is None or visit.status == "unbooked":
                days.append(math.inf)
                continue
            tz = zone(templates.calendar.timezones[visit.location_id])
            waited = (visit.start.astimezone(tz).date() - arrival.at.astimezone(tz).date()).days
            days.append(waited)
            histogram[waited] += 1
            moved += visit.moves > 0
        days.sort()
        within = sum(1 for value in days if value <= tier.max_wait_days)
        tiers[tier.code] = {
            "window_days": tier.max_wait_days,
            "referrals": sum(counts.values()),
            "seen": counts["seen"],
            "no_shows": counts["no_show"],
            "cancelled": counts["cancelled"],
            "unbooked": counts["unbooked"],
            "moved_earlier_from_waitlist": moved,
            "within_window_share": round(within / len(days), 4) if days else None,
            "median_days": _percentile(days, 0.5),
            "p90_days": _percentile(days, 0.9),
            "days_histogram": {str(day): count for day, count in sorted(histogram.items())},
        }
    capacity = result.capacity
    in_period = [
        visit
        for visit in result.visits
        if visit.status in ("seen", "no_show")
        and visit.start is not None
        and templates.measure_start <= visit.start < templates.measure_end
    ]
    reserved_used = sum(1 for visit in in_period if visit.held)
    reserved_booked = sum(1 for visit in in_period if visit.reserved)
    return {
        "policy": result.policy.code,
        "label": result.policy.label,
        "tiers": tiers,
        "bookable_hours": round(capacity.visits * hours_per_visit, 1),
        "block_hours": round(capacity.block_hours, 1),
        "reserved_hours": round(capacity.reserved_visits * hours_per_visit, 1),
        "reserved_hours_used_while_held": round(reserved_used * hours_per_visit, 1),
        "reserved_hours_released_unused": round(
            max(0, capacity.reserved_visits - reserved_used) * hours_per_visit, 1
        ),
        "reserved_hours_never_booked": round(
            max(0, capacity.reserved_visits - reserved_booked) * hours_per_visit, 1
        ),
        "utilisation": round(len(in_period) / capacity.visits, 4) if capacity.visits else None,
        "utilisation_attended": (
            round(sum(1 for visit in in_period if visit.status == "seen") / capacity.visits, 4)
            if capacity.visits
            else None
        ),
        "searches": result.searches,
    }


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _days(value: float | None) -> str:
    return "never" if value is None else f"{value:g}"


def summary_table(result: dict[str, Any]) -> str:
    """The policies side by side as plain text, one row per policy and tier."""
    header = (
        f"{'policy':<42} {'tier':<10} {'referrals':>9} {'in window':>9} {'median d':>8} {'p90 d':>6}"
        f" {'unbooked':>8} {'util':>6} {'reserved h':>10} {'released unused h':>17}"
    )
    lines = [header, "-" * len(header)]
    for policy in result["policies"]:
        for position, (code, tier) in enumerate(policy["tiers"].items()):
            first = position == 0
            lines.append(
                f"{policy['label'] if first else '':<42} {code + ' (' + str(tier['window_days']) + 'd)':<10}"
                f" {tier['referrals']:>9} {_share(tier['within_window_share']):>9} {_days(tier['median_days']):>8}"
                f" {_days(tier['p90_days']):>6} {tier['unbooked']:>8}"
                f" {(_share(policy['utilisation']) if first else ''):>6}"
                f" {(str(policy['reserved_hours']) if first else ''):>10}"
                f" {(str(policy['reserved_hours_released_unused']) if first else ''):>17}"
            )
    return "\n".join(lines)
