"""Deadlocks between clashing bookings, and the retry that turns them into proper refusals."""

from __future__ import annotations

from django.db import OperationalError, connection

from practice.errors import ConcurrentChange

# Two bookings that clash, inserted at the same moment, each check the other's row against the
# exclusion constraints and wait for it: PostgreSQL aborts one as a deadlock. Outermost, that
# one tries again, waits for the other's commit, and is refused with the constraint's own 409.
# A retry first takes the surgeon's and the patient's advisory locks (in that order), so the
# retries of one race queue up instead of deadlocking among themselves.
ATTEMPTS = 3
_DEADLOCK = "40P01"
_SURGEON_LOCK, _PATIENT_LOCK = 1, 2


def surgeon_serialised(*, surgeon_id: int) -> None:
    """Take the surgeon's transaction lock: bookings and holds of one surgeon then check and
    write one after the other. Holds live in their own table, which the appointments' exclusion
    constraint cannot see: this lock is what keeps a hold and a booking of the same time from
    both passing their checks. Call first in the transaction; the lock ends with it. (SQLite's
    IMMEDIATE transactions serialise every writer already.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_SURGEON_LOCK, surgeon_id])


def retry_serialised(*, attempt: int, surgeon_id: int, patient_id: int) -> None:
    """Call first in a booking's transaction; the locks end with it. Every attempt takes the
    surgeon's lock (`surgeon_serialised`); a retry takes the patient's too."""
    if connection.vendor != "postgresql":
        return
    if not attempt:
        surgeon_serialised(surgeon_id=surgeon_id)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s), pg_advisory_xact_lock(%s, %s)",
            [_SURGEON_LOCK, surgeon_id, _PATIENT_LOCK, patient_id],
        )


def deadlock_victim(error: OperationalError, *, nested: bool, attempt: int) -> None:
    """Return to retry; raise when the error is no deadlock, or retrying is not ours to do."""
    if getattr(error.__cause__, "sqlstate", None) != _DEADLOCK:
        raise error
    if nested or attempt + 1 >= ATTEMPTS:
        # The caller's transaction is aborted with ours: only the client can try again.
        raise ConcurrentChange() from error
