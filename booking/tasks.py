from __future__ import annotations

from celery import shared_task

from booking.services import waitlist_entries_expire, waitlist_offers_lapse


@shared_task
def expire_waitlist_entries() -> int:
    return waitlist_entries_expire()


@shared_task
def lapse_waitlist_offers() -> int:
    return waitlist_offers_lapse()
