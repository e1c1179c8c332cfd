"""The access simulator (issue 18): how much urgent capacity to hold back, answered on the
practice's own templates. `simulation_run` loads them once through the calendar loader, replays
synthetic referrals on an in-memory copy through the slot engine for each reserve policy, and
returns the figures side by side. It never writes: the practice's data is untouched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from booking.simulation.calendar import Replay
from booking.simulation.chart import chart_png
from booking.simulation.demand import arrivals_generate
from booking.simulation.inputs import (
    CONFIGURED,
    DEFAULT_TIER_MIX,
    NO_RESERVE,
    RESERVE,
    ReservePolicy,
    SimulationInputs,
    policy_parse,
)
from booking.simulation.replay import replay_run
from booking.simulation.results import policy_summary, summary_table
from booking.simulation.templates import templates_load

__all__ = [
    "CONFIGURED",
    "DEFAULT_TIER_MIX",
    "NO_RESERVE",
    "RESERVE",
    "ReservePolicy",
    "SimulationInputs",
    "chart_png",
    "policy_parse",
    "simulation_run",
    "summary_table",
]


def simulation_run(
    *,
    inputs: SimulationInputs,
    progress: Callable[[float], None] | None = None,
    now: dt.datetime | None = None,
    check_against_engine: bool = False,
) -> dict[str, Any]:
    """Replay the inputs' referrals under each policy; the result as JSON-ready data. With
    `progress`, called with the share done (0 to 1) now and then."""
    templates = templates_load(inputs=inputs, now=now)
    weeks = inputs.weeks
    configured = Replay(templates, ReservePolicy(kind=CONFIGURED)).capacity()
    visits_per_week = configured.visits / weeks
    per_week = (
        inputs.arrivals_per_week
        if inputs.arrivals_per_week is not None
        # Cancelled visits give their time back: ask for enough that the visits kept fill the target.
        else (inputs.utilisation or 0) / 100 * visits_per_week / (1 - inputs.cancel_rate)
    )
    arrivals = arrivals_generate(
        templates=templates,
        per_week=per_week,
        tier_mix=inputs.tier_mix,
        seed=inputs.seed,
        cancel_rate=inputs.cancel_rate,
        no_show_rate=inputs.no_show_rate,
    )
    summaries = []
    count = len(inputs.policies)
    for position, policy in enumerate(inputs.policies):

        def report(share: float, position: int = position) -> None:
            if progress is not None:
                progress((position + share) / count)

        result = replay_run(
            templates=templates,
            policy=policy,
            arrivals=arrivals,
            waitlist=inputs.waitlist,
            progress=report,
            check_against_engine=check_against_engine,
        )
        summaries.append(policy_summary(templates=templates, result=result))
    calendar = templates.calendar
    return {
        "inputs": inputs.to_dict(),
        "appointment_type": templates.appointment_type,
        "period": {
            "warmup_from": templates.start.isoformat(),
            "measured_from": templates.measure_start.isoformat(),
            "measured_until": templates.measure_end.isoformat(),
            "bookable_until": templates.horizon_end.isoformat(),
        },
        "practice": {
            "locations": len(calendar.timezones),
            "surgeons": len({block.surgeon_id for block in calendar.blocks}),
            "blocks": len(calendar.blocks),
            "bookable_visits_per_week": round(visits_per_week, 1),
        },
        "arrivals_per_week": round(per_week, 1),
        "referrals": len(arrivals),
        "policies": summaries,
    }
