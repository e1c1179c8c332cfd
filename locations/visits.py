"""What locations asks of booked visits, which live above it in booking.

Locations may not import booking (apps depend one way: practice <- locations <- booking <-
notifications), yet a change to a location, its hours or closures, or a surgeon's blocks and time
off answers with the visits it leaves outside availability, and deleting a location or a surgeon
is refused while visits are still to come. So locations asks its two questions here, and booking
answers them by calling `register` from `BookingConfig.ready()`.

When nothing is registered (booking is not installed), there are no booked visits: `conflicts`
answers [] and `future_visits_exist` answers False.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Why a booked visit no longer fits availability, most specific first.
CONFLICT_CLOSURE = "closure"
CONFLICT_TIME_OFF = "time_off"
CONFLICT_OUTSIDE_HOURS = "outside_hours"
CONFLICT_OUTSIDE_BLOCKS = "outside_blocks"
# The surgeon or the location was deactivated: the visit must move wherever the calendar says.
CONFLICT_INACTIVE = "inactive"
CONFLICT_REASONS = [
    CONFLICT_INACTIVE,
    CONFLICT_CLOSURE,
    CONFLICT_TIME_OFF,
    CONFLICT_OUTSIDE_HOURS,
    CONFLICT_OUTSIDE_BLOCKS,
]


class VisitConflict(Protocol):
    """A booked future visit that no longer fits, and why (one of CONFLICT_REASONS).

    `appointment` is booking's model; locations reads only its id, patient_id, surgeon_id,
    location_id, start, end, status and location.timezone (see
    `locations.serializers.AppointmentConflictSerializer`; the answer loads the location with it).
    """

    @property
    def appointment(self) -> Any: ...

    @property
    def reason(self) -> str: ...


class ConflictsAnswer(Protocol):
    def __call__(
        self, *, location_id: int | None = None, surgeon_id: int | None = None
    ) -> Sequence[VisitConflict]: ...


class FutureVisitsExistAnswer(Protocol):
    def __call__(self, *, location_id: int | None = None, surgeon_id: int | None = None) -> bool: ...


@dataclass(frozen=True)
class _Answers:
    conflicts: ConflictsAnswer
    future_visits_exist: FutureVisitsExistAnswer


class _Registry:
    answers: _Answers | None = None


_registry = _Registry()


def register(*, conflicts: ConflictsAnswer, future_visits_exist: FutureVisitsExistAnswer) -> None:
    """Install the app that books visits as the one answering; a second call replaces the first."""
    _registry.answers = _Answers(conflicts=conflicts, future_visits_exist=future_visits_exist)


def conflicts(*, location_id: int | None = None, surgeon_id: int | None = None) -> list[VisitConflict]:
    """Booked future visits (at the location, of the surgeon; both or neither) now outside
    availability, by start. [] when no app books visits."""
    answers = _registry.answers
    if answers is None:
        return []
    return list(answers.conflicts(location_id=location_id, surgeon_id=surgeon_id))


def future_visits_exist(*, location_id: int | None = None, surgeon_id: int | None = None) -> bool:
    """Whether an active visit (at the location, of the surgeon) has yet to end. False when no
    app books visits."""
    answers = _registry.answers
    if answers is None:
        return False
    return answers.future_visits_exist(location_id=location_id, surgeon_id=surgeon_id)
