"""Keeping the conflict rows (`VisitConflict`) equal to what `appointment_conflicts` finds.

On PostgreSQL, triggers note each change to visits, hours, closures, blocks, time off, locations
and surgeons as `ConflictRecheck` rows in the changing transaction (booking's migration 0005);
each read of the conflict list or the worklist first judges again the visits those notes name,
so it sees every committed change; beat also refreshes them every minute
(`booking.tasks.refresh_visit_conflicts`), so a read rarely has much to judge. A read with nothing
noted costs one query; a change to one location's hours costs the next refresh that location's
visits, not every visit of the practice on every read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from booking.models import Appointment, ConflictRecheck, VisitConflict
from booking.selectors.conflicts import AppointmentConflict, appointment_conflicts, visit_conflicts_kept

# Past this many notes of single visits or of surgeons and locations (a bulk load, an import),
# every visit is judged in one pass.
MAX_VISIT_NOTES = 5000
MAX_SCOPE_NOTES = 20
_REFRESH_LOCK = 4_020_501  # pg_advisory_xact_lock key: one refresh at a time


def visit_conflicts_kept_here() -> bool:
    """Whether this database keeps conflict rows (PostgreSQL, with its triggers)."""
    return connection.vendor == "postgresql"


def visit_conflicts_refresh(*, now: dt.datetime | None = None) -> int:
    """Judge again the visits the noted changes name, and replace their rows; how many notes that
    consumed. One query when nothing changed; else, for one kind of note, five (the notes, the
    check's six queries less the calendar's three saved, the rows replaced in one statement).

    Refreshes run one at a time (an advisory lock taken with the notes), and the notes are taken
    in the transaction that writes the rows, so a failed refresh leaves them for the next.
    Inside a caller's transaction no savepoint is made: a failure there is the caller's too."""
    now = timezone.now() if now is None else now
    notes_table = connection.ops.quote_name(ConflictRecheck._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "WITH refreshing AS MATERIALIZED (SELECT pg_advisory_xact_lock(%s))"  # noqa: S608 - the table's name only
            f" DELETE FROM {notes_table} WHERE EXISTS (SELECT 1 FROM refreshing)"
            " RETURNING surgeon_id, location_id, appointment_id",
            [_REFRESH_LOCK],
        )
        notes = cursor.fetchall()
        if not notes:
            return 0
        visits = sorted({visit for _, _, visit in notes if visit is not None})
        scopes = {(surgeon, location) for surgeon, location, visit in notes if visit is None}
        if (None, None) in scopes or len(visits) > MAX_VISIT_NOTES or len(scopes) > MAX_SCOPE_NOTES:
            _replace(cursor, "TRUE", {}, appointment_conflicts(now=now))
            return len(notes)
        for surgeon, location in scopes:
            _replace(
                cursor,
                "(%(surgeon)s::bigint IS NULL OR a.surgeon_id = %(surgeon)s)"
                " AND (%(location)s::bigint IS NULL OR a.location_id = %(location)s)",
                {"surgeon": surgeon, "location": location},
                appointment_conflicts(surgeon_id=surgeon, location_id=location, now=now),
            )
        if visits:
            _replace(
                cursor,
                "a.id = ANY(%(visits)s)",
                {"visits": visits},
                appointment_conflicts(appointment_ids=visits, now=now),
            )
    return len(notes)


def _replace(cursor: Any, scope: str, params: dict[str, Any], found: list[AppointmentConflict]) -> None:
    """Make the rows of the visits in `scope` (a condition on their appointment `a`) those of
    `found`, in one statement: the others deleted, these inserted or updated."""
    kept, appointment = VisitConflict._meta.db_table, Appointment._meta.db_table
    cursor.execute(
        f"WITH gone AS (DELETE FROM {kept} k USING {appointment} a WHERE a.id = k.appointment_id"  # noqa: S608 - table names and the callers' fixed conditions only
        f" AND {scope} AND NOT k.appointment_id = ANY(%(ids)s))"
        f" INSERT INTO {kept} (appointment_id, reason) SELECT * FROM unnest(%(ids)s::bigint[], %(reasons)s::text[])"
        " ON CONFLICT (appointment_id) DO UPDATE SET reason = excluded.reason",
        {
            **params,
            "ids": [conflict.appointment.pk for conflict in found],
            "reasons": [str(conflict.reason) for conflict in found],
        },
    )


def visit_conflicts_current(
    *, location_id: int | None = None, surgeon_id: int | None = None
) -> list[AppointmentConflict]:
    """What `appointment_conflicts` answers, from the kept rows once refreshed where they are
    kept (PostgreSQL); SQLite, without the triggers, judges every visit as before."""
    if not visit_conflicts_kept_here():
        return appointment_conflicts(location_id=location_id, surgeon_id=surgeon_id)
    visit_conflicts_refresh()
    return visit_conflicts_kept(location_id=location_id, surgeon_id=surgeon_id)
