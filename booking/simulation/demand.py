"""The practice's demand: synthetic referrals, the same for a seed whatever the policy."""

from __future__ import annotations

import datetime as dt
import random

from booking.availability import zone
from booking.simulation.records import Arrival, Templates
from practice.errors import InvalidInput

# Referrals arrive Monday to Friday between these local hours of the practice's first location.
_REFERRAL_DAY = (dt.time(8), dt.time(17))
_WORKDAYS = 5


def arrivals_generate(
    *,
    templates: Templates,
    per_week: float,
    tier_mix: dict[str, float],
    seed: int,
    cancel_rate: float,
    no_show_rate: float,
) -> list[Arrival]:
    """Referrals as a Poisson stream over working hours (Monday to Friday, 08:00-17:00 at the
    practice's first location), each drawn a tier by `tier_mix` and its cancellation and no-show
    fate; the same for a seed, whatever the policy."""
    tiers = {tier.code: tier for tier in templates.tiers}
    unknown = set(tier_mix) - set(tiers)
    if unknown:
        raise InvalidInput.for_field("tier_mix", f"Unknown tiers: {', '.join(sorted(unknown))}.")
    mix = [
        (tiers[code], share)
        for code, share in sorted(tier_mix.items(), key=lambda item: -tiers[item[0]].rank)
    ]
    total = sum(share for _, share in mix)
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    tz = zone(templates.zone_name)
    day_hours = (
        dt.datetime.combine(dt.date.min, _REFERRAL_DAY[1])
        - dt.datetime.combine(dt.date.min, _REFERRAL_DAY[0])
    ).seconds / 3600
    week_hours = day_hours * _WORKDAYS
    rate = per_week / week_hours
    first_monday = templates.start.astimezone(tz).date()
    # Rounded: a period across a DST change is a few hours short of (or past) whole weeks.
    weeks = round((templates.measure_end - templates.start) / dt.timedelta(weeks=1))
    arrivals: list[Arrival] = []
    clock = 0.0
    while True:
        clock += rng.expovariate(rate)
        week, within = divmod(clock, week_hours)
        if week >= weeks:
            break
        day, hours = divmod(within, day_hours)
        local = dt.datetime.combine(
            first_monday + dt.timedelta(days=7 * int(week) + int(day)), _REFERRAL_DAY[0], tzinfo=tz
        ) + dt.timedelta(hours=hours)
        draw = rng.random() * total
        chosen = mix[-1][0]
        for tier, share in mix:
            if draw < share:
                chosen = tier
                break
            draw -= share
        arrivals.append(
            Arrival(
                index=len(arrivals),
                tier=chosen,
                at=local.astimezone(dt.UTC),
                cancels=rng.random() < cancel_rate,
                cancel_fraction=rng.random(),
                no_show=rng.random() < no_show_rate,
            )
        )
    return arrivals
