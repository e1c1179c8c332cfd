from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from booking.simulation import (
    DEFAULT_TIER_MIX,
    SimulationInputs,
    chart_png,
    policy_parse,
    simulation_run,
    summary_table,
)
from practice.errors import DomainError


def _tier_mix(text: str) -> dict[str, float]:
    """`standard=80,urgent=20` (shares, in any unit)."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        code, _, share = part.partition("=")
        try:
            mix[code.strip()] = float(share)
        except ValueError as error:
            raise CommandError(f"--tier-mix: {part!r} is not CODE=SHARE") from error
    return mix


class Command(BaseCommand):
    help = (
        "Replay synthetic referrals against an in-memory copy of the practice's templates, through "
        "the slot engine, for each reserve policy; print the figures side by side. Writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--weeks", type=int, default=26, help="weeks measured (default 26)")
        parser.add_argument("--warmup-weeks", type=int, default=2, help="weeks booked first, not measured")
        demand = parser.add_mutually_exclusive_group()
        demand.add_argument("--arrivals-per-week", type=float, help="referrals per week")
        demand.add_argument(
            "--utilisation",
            type=int,
            help="referrals enough to book this percent of the bookable hours (default 90)",
        )
        parser.add_argument(
            "--tier-mix",
            default=",".join(f"{code}={share:g}" for code, share in DEFAULT_TIER_MIX.items()),
            help="tier shares, e.g. standard=0.8,urgent=0.2",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--policy",
            action="append",
            dest="policies",
            help="configured, none, or reserve:PERCENT:HOURS (repeat to compare; default configured and none)",
        )
        parser.add_argument("--cancel-rate", type=float, default=0.08)
        parser.add_argument("--no-show-rate", type=float, default=0.05)
        parser.add_argument(
            "--no-waitlist", action="store_true", help="do not offer freed slots to waiting referrals"
        )
        parser.add_argument("--appointment-type", help="type code (default: the access report's)")
        parser.add_argument(
            "--horizon-weeks", type=int, default=12, help="how far past the period a booking may go"
        )
        parser.add_argument("--json", type=Path, help="write the full result here")
        parser.add_argument("--chart", type=Path, help="write the PNG chart here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            inputs = SimulationInputs(
                weeks=options["weeks"],
                warmup_weeks=options["warmup_weeks"],
                arrivals_per_week=options["arrivals_per_week"],
                utilisation=None
                if options["arrivals_per_week"] is not None
                else (options["utilisation"] or 90),
                tier_mix=_tier_mix(options["tier_mix"]),
                seed=options["seed"],
                policies=tuple(policy_parse(text) for text in options["policies"] or ("configured", "none")),
                cancel_rate=options["cancel_rate"],
                no_show_rate=options["no_show_rate"],
                waitlist=not options["no_waitlist"],
                appointment_type=options["appointment_type"],
                horizon_weeks=options["horizon_weeks"],
            )
            began = time.perf_counter()
            result = simulation_run(inputs=inputs)
        except DomainError as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - began
        practice = result["practice"]
        self.stdout.write(
            f"{practice['surgeons']} surgeons, {practice['locations']} locations, "
            f"{practice['bookable_visits_per_week']} bookable {result['appointment_type']} visits a week; "
            f"{result['referrals']} referrals ({result['arrivals_per_week']}/week) over {inputs.weeks} weeks "
            f"after {inputs.warmup_weeks} of warm-up, seed {inputs.seed}; "
            f"{elapsed:.1f} s (load average {os.getloadavg()[0]:.2f})"
        )
        self.stdout.write(summary_table(result))
        if options["json"]:
            options["json"].write_text(json.dumps(result, indent=2))
        if options["chart"]:
            options["chart"].write_bytes(chart_png(result))
