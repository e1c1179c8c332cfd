"""What the rest of the practice tells notifications. Booking services call these inside their
transaction, so the outbox rows commit (or roll back) with the change that caused them.

Filled in by the SMS issue (#6); until then a booking sends nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from booking.models import Appointment


def appointment_booked(*, appointment: Appointment) -> None:
    """A visit was booked: confirmation now, reminders before it, follow-up window fulfilled."""


def appointment_rescheduled(*, old: Appointment, new: Appointment) -> None:
    """A visit moved: the old visit's pending texts are suppressed, the new one's scheduled."""


def appointment_cancelled(*, appointment: Appointment) -> None:
    """A visit was cancelled: a notice, and its pending reminders suppressed."""


def slot_freed(*, appointment: Appointment) -> None:
    """The slot `appointment` held is free again: offer it to matching waitlist patients."""
