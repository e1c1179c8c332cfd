"""The chart: for each tier, the share of referrals seen by each day after referral, one line
per policy, with the tier's window marked. PNG bytes, drawn off-screen (Agg)."""

from __future__ import annotations

import io
from typing import Any


def chart_png(result: dict[str, Any]) -> bytes:
    # Imported here: matplotlib takes a while to load, and only a finished simulation draws.
    # A bare Figure draws with the Agg canvas whatever the default backend: no display needed.
    from matplotlib.figure import Figure

    policies = result["policies"]
    tier_codes = list(policies[0]["tiers"]) if policies else []
    figure = Figure(figsize=(5.5 * max(1, len(tier_codes)), 4.2), dpi=100)
    axes_list = figure.subplots(1, max(1, len(tier_codes)), squeeze=False)[0]
    for axes, code in zip(axes_list, tier_codes, strict=False):
        window = policies[0]["tiers"][code]["window_days"]
        longest = window * 3
        for policy in policies:
            tier = policy["tiers"][code]
            counted = tier["referrals"] - tier["cancelled"]
            if not counted:
                continue
            histogram = {int(day): count for day, count in tier["days_histogram"].items()}
            longest = max(longest, min(max(histogram, default=0), window * 6))
            days = list(range(0, longest + 1))
            seen, shares = 0, []
            for day in days:
                seen += histogram.get(day, 0)
                shares.append(100 * seen / counted)
            axes.step(days, shares, where="post", label=policy["label"])
        axes.axvline(window, color="grey", linestyle="--", linewidth=1)
        axes.text(window, 2, f" {window}-day window", color="grey", fontsize=8)
        axes.set_title(f"{code}: seen within N days of referral")
        axes.set_xlabel("days from referral to visit")
        axes.set_ylabel("% of referrals")
        axes.set_ylim(0, 101)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="lower right")
    inputs = result.get("inputs", {})
    figure.suptitle(
        f"{result.get('referrals', 0)} referrals over {inputs.get('weeks')} weeks, "
        f"{result.get('arrivals_per_week', 0):.0f}/week, seed {inputs.get('seed')}",
        fontsize=10,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
