"""What the texts say. Short (one GSM-7 segment where the names allow), and never the reason for
the visit, a diagnosis, the procedure or the surgeon's specialty.

Replies are YES or C to confirm and R to reschedule: never CANCEL, which is an opt-out word.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from booking.models import Appointment

STOP = "Reply STOP to opt out."


def local_when(appointment: Appointment) -> str:
    """ "Mon Mar 8, 9:00 AM" on the location's wall clock."""
    local = appointment.start.astimezone(zoneinfo.ZoneInfo(appointment.location.timezone))
    return _when(local)


def _when(local: dt.datetime) -> str:
    hour = local.hour % 12 or 12
    return f"{local:%a %b} {local.day}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def visit_notice(*, kind: str, appointment: Appointment) -> str:
    practice, place, when = settings.PRACTICE_NAME, appointment.location.name, local_when(appointment)
    if kind == "cancelled":
        return f"{practice}: your visit at {place} on {when} is cancelled. To rebook call {settings.PRACTICE_PHONE}. {STOP}"
    lead = {
        "confirmation": f": your visit at {place} is booked for {when}.",
        "rescheduled": f": your visit has moved to {when} at {place}.",
        "reminder": f" reminder: your visit at {place} on {when}.",
    }[kind]
    return f"{practice}{lead} Reply YES to confirm or R to reschedule. {STOP}"


def follow_up_due() -> str:
    return (
        f"{settings.PRACTICE_NAME}: it is time to book your follow-up visit. "
        f"Call {settings.PRACTICE_PHONE} or reply R and we will call you. {STOP}"
    )


def referral_received(*, days: int) -> str:
    """Only that a referral arrived and when we call: never who referred, or why."""
    within = "today" if days <= 0 else ("within 1 day" if days == 1 else f"within {days} days")
    return (
        f"{settings.PRACTICE_NAME}: we received your referral. We will call you {within} to book "
        f"your visit. Questions: {settings.PRACTICE_PHONE}. {STOP}"
    )


def waitlist_offer(*, appointment: Appointment) -> str:
    return (
        f"{settings.PRACTICE_NAME}: an earlier visit is free at {appointment.location.name} on "
        f"{local_when(appointment)}. Reply YES to take it. {STOP}"
    )


def waitlist_gone(*, appointment: Appointment) -> str:
    return (
        f"{settings.PRACTICE_NAME}: the visit on {local_when(appointment)} has been taken. "
        f"You stay on our waitlist. {STOP}"
    )


def waitlist_gone_reply() -> str:
    return f"{settings.PRACTICE_NAME}: sorry, that visit has been taken. You stay on our waitlist."


def confirmed_reply(*, appointment: Appointment) -> str:
    return f"{settings.PRACTICE_NAME}: thank you, your visit on {local_when(appointment)} is confirmed."


def call_back_reply() -> str:
    return f"{settings.PRACTICE_NAME}: we will call you to find a new time."


def help_reply() -> str:
    return f"{settings.PRACTICE_NAME}: call us on {settings.PRACTICE_PHONE}. {STOP}"
