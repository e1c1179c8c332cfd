from __future__ import annotations

from celery import shared_task

from booking.services import waitlist_entries_expire, waitlist_offers_lapse
from booking.services.conflicts import visit_conflicts_kept_here, visit_conflicts_refresh


@shared_task
def expire_waitlist_entries() -> int:
    return waitlist_entries_expire()


@shared_task
def lapse_waitlist_offers() -> int:
    return waitlist_offers_lapse()


@shared_task
def refresh_visit_conflicts() -> int:
    """Keeps the conflict rows fresh between reads, so a worklist read after a busy hour (or a
    bulk load) finds little or nothing left to judge. Safe to run at any time, and twice."""
    if not visit_conflicts_kept_here():
        return 0
    return visit_conflicts_refresh()
