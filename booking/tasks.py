from __future__ import annotations

from celery import shared_task

from booking.services import waitlist_entries_expire, waitlist_offers_lapse
from booking.services.conflicts import visit_conflicts_kept_here, visit_conflicts_refresh
from booking.services.simulations import simulation_execute


@shared_task
def expire_waitlist_entries() -> int:
    return waitlist_entries_expire()


@shared_task
def lapse_waitlist_offers() -> int:
    return waitlist_offers_lapse()


# A simulation runs for up to a few minutes: longer limits than the settings' defaults.
@shared_task(soft_time_limit=900, time_limit=960)
def run_simulation(run_id: int) -> bool:
    return simulation_execute(run_id=run_id)


@shared_task
def refresh_visit_conflicts() -> int:
    """Keeps the conflict rows fresh between reads, so a worklist read after a busy hour (or a
    bulk load) finds little or nothing left to judge. Safe to run at any time, and twice."""
    if not visit_conflicts_kept_here():
        return 0
    return visit_conflicts_refresh()
