"""A visit's lifecycle after booking (FHIR Appointment.status): confirm, check in, complete,
no-show and cancel. Each locks the visit's row, so concurrent actions see each other."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import transaction
from django.utils import timezone

from booking.models import Appointment, AppointmentStatus, VisitEventKind
from booking.services.events import event_record
from booking.services.referrals import referral_requeue
from booking.services.surgeries import follow_up_unlink
from booking.services.waitlist import slot_offer
from practice.errors import Conflict, InvalidInput

# Cancelling closer to the start than this is a late cancellation (the practice reports on it).
LATE_CANCELLATION = dt.timedelta(hours=24)


class InvalidTransition(Conflict):
    code = "invalid_transition"


S = AppointmentStatus
# action: (statuses it may leave from, status it enters). FHIR lets a booked patient arrive
# without having confirmed, so check-in is allowed from booked as well.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "confirm": (frozenset({S.BOOKED}), S.CONFIRMED),
    "check_in": (frozenset({S.BOOKED, S.CONFIRMED}), S.CHECKED_IN),
    "complete": (frozenset({S.CHECKED_IN}), S.COMPLETED),
    "cancel": (frozenset({S.BOOKED, S.CONFIRMED}), S.CANCELLED),
    "no_show": (frozenset({S.BOOKED, S.CONFIRMED}), S.NO_SHOW),
    "reschedule": (frozenset({S.BOOKED, S.CONFIRMED}), S.CANCELLED),
}


def appointment_locked(appointment: Appointment, *related: str) -> Appointment:
    """The appointment's current row, locked until the transaction ends, with the `related` rows
    read in the same query (not locked)."""
    return Appointment.objects.select_for_update(of=("self",)).select_related(*related).get(pk=appointment.pk)


def transition_check(appointment: Appointment, action: str) -> str:
    sources, target = TRANSITIONS[action]
    if appointment.status not in sources:
        raise InvalidTransition(
            f"Cannot {action.replace('_', ' ')} an appointment that is {appointment.status.replace('_', ' ')}.",
            fields={"status": [f"Current status: {appointment.status}."]},
            extra={"status": appointment.status},
        )
    return target


def _transition(*, appointment: Appointment, action: str) -> Appointment:
    with transaction.atomic():
        current = appointment_locked(appointment)
        current.status = transition_check(current, action)
        current.save(update_fields=["status", "updated_at"])
    return current


def appointment_confirm(*, appointment: Appointment, now: dt.datetime | None = None) -> Appointment:
    """The patient confirmed (by phone, or a YES reply): booked → confirmed.

    Idempotent: a confirmed visit is returned as it is, with no write (the patient confirming
    twice, or two schedulers at once, is no conflict). A visit that was rescheduled is refused
    with the visit that replaced it (`rescheduled_to`, the last of the chain), which is the one to
    confirm. Locks the row (SELECT FOR UPDATE).
    """
    with transaction.atomic():
        current = appointment_locked(appointment)
        if current.status == AppointmentStatus.CONFIRMED:
            return current
        if current.status == AppointmentStatus.CANCELLED:
            _refuse_if_rescheduled(current)
        current.status = transition_check(current, "confirm")
        current.confirmed_at = now or timezone.now()
        current.save(update_fields=["status", "confirmed_at", "updated_at"])
    return current


def _refuse_if_rescheduled(appointment: Appointment) -> None:
    replacement = None
    successor = Appointment.objects.filter(rescheduled_from=appointment).select_related("location").first()
    while successor is not None:  # a visit moved twice: the last move stands
        replacement = successor
        successor = Appointment.objects.filter(rescheduled_from=successor).select_related("location").first()
    if replacement is None:
        return
    local_start = replacement.start.astimezone(zoneinfo.ZoneInfo(replacement.location.timezone))
    raise InvalidTransition(
        f"Cannot confirm an appointment that is cancelled: it was rescheduled to appointment "
        f"{replacement.pk} on {local_start:%Y-%m-%d at %H:%M} ({replacement.location.timezone}), "
        f"which is {replacement.status.replace('_', ' ')}; confirm that one.",
        fields={"status": [f"Current status: {appointment.status}."]},
        extra={"status": appointment.status, "rescheduled_to": replacement.pk},
    )


def appointment_check_in(*, appointment: Appointment) -> Appointment:
    """The patient arrived: booked or confirmed → checked_in."""
    return _transition(appointment=appointment, action="check_in")


def appointment_complete(*, appointment: Appointment) -> Appointment:
    """The visit happened: checked_in → completed."""
    return _transition(appointment=appointment, action="complete")


def appointment_no_show(*, appointment: Appointment) -> Appointment:
    """The patient did not come: booked or confirmed → no_show. A referral it was booked from goes
    back in the queue."""
    with transaction.atomic():
        current = _transition(appointment=appointment, action="no_show")
        follow_up_unlink(appointment=current)
        referral_requeue(appointment=current)
    return current


def appointment_cancel(
    *, appointment: Appointment, reason: str, now: dt.datetime | None = None
) -> Appointment:
    """Cancel a booked or confirmed visit; within 24 hours of its start it is a late cancellation.

    Locks the row (SELECT FOR UPDATE), so a concurrent action sees the cancellation.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput.for_field("reason", "Say why the visit is cancelled.")
    now = now or timezone.now()
    with transaction.atomic():
        current = appointment_locked(appointment)
        current.status = transition_check(current, "cancel")
        current.cancelled_at = now
        current.cancellation_reason = reason
        current.late_cancellation = current.start - now < LATE_CANCELLATION
        current.save(
            update_fields=["status", "cancelled_at", "cancellation_reason", "late_cancellation", "updated_at"]
        )
        follow_up_unlink(appointment=current)
        referral_requeue(appointment=current)
        event_record(kind=VisitEventKind.CANCELLED, appointment_id=current.pk)
        if current.start > now:
            slot_offer(appointment=current)
    return current
