"""The visit page's rules: who may see what, the throttle, the audit rows, and the actions, each
through booking's own services."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db.models import Q

from booking.availability import Slot
from booking.models import Appointment
from booking.selectors import slots_free, tier_window_end
from booking.services import SlotUnavailable, appointment_cancel, appointment_confirm, appointment_reschedule
from locations.models import Surgeon
from notifications.models import Message, MessageKind, VisitPageAccess, VisitPageAction

# Guessing: a visit's page takes five wrong birth dates an hour; one address twenty refusals of
# any kind (wrong dates, wrong links) an hour. Then the page says to call.
BIRTH_DATE_TRIES_PER_VISIT = 5
REFUSALS_PER_ADDRESS = 20
THROTTLE_WINDOW = dt.timedelta(hours=1)
# The choice shown: up to six times a day over the first seven days with any.
TIMES_A_DAY = 6
DAYS_OFFERED = 7

# What a patient may give as the reason; the code is stored, in English, for the practice.
CANCEL_REASONS = {
    "better": "Feeling better, no longer needed",
    "conflict": "Cannot come at this time",
    "elsewhere": "Seeing another doctor",
    "other": "Other reason",
}
_REFUSALS = (VisitPageAction.BIRTH_DATE_REFUSED, VisitPageAction.BAD_LINK)


def access_record(
    *, action: str, ip: str | None, now: dt.datetime, visit: Appointment | None = None, detail: str = ""
) -> None:
    VisitPageAccess.objects.create(
        action=action,
        appointment_id=visit.pk if visit is not None else None,
        patient_id=visit.patient_id if visit is not None else None,
        ip=ip or None,
        detail=detail[:200],
        at=now,
    )


def access_throttled(*, ip: str | None, now: dt.datetime, visit: Appointment | None = None) -> bool:
    """Whether this address, or this visit's page, has been refused too often lately (one query)."""
    since = now - THROTTLE_WINDOW
    recent = VisitPageAccess.objects.filter(at__gte=since)
    by_visit = Q(appointment_id=visit.pk, action=VisitPageAction.BIRTH_DATE_REFUSED) if visit else Q(pk=None)
    by_ip = Q(ip=ip, action__in=_REFUSALS) if ip else Q(pk=None)
    counts = recent.filter(by_visit | by_ip).values_list("appointment_id", "ip", "action")
    visit_refusals = ip_refusals = 0
    for appointment_id, address, action in counts:
        if visit is not None and appointment_id == visit.pk and action == VisitPageAction.BIRTH_DATE_REFUSED:
            visit_refusals += 1
        if ip and address == ip:
            ip_refusals += 1
    return visit_refusals >= BIRTH_DATE_TRIES_PER_VISIT or ip_refusals >= REFUSALS_PER_ADDRESS


def visit_is_stranded(*, visit: Appointment) -> bool:
    """Whether the patient was texted that the visit can't go ahead (a closure, a deactivation):
    it can be moved or cancelled, not confirmed."""
    return Message.objects.filter(appointment_id=visit.pk, kind=MessageKind.STRANDED).exists()


# How far ahead a stranded visit's patient is offered new times, whatever its window.
STRANDED_SEARCH = dt.timedelta(days=14)


def birth_date_matches(*, visit: Appointment, date_of_birth: dt.date) -> bool:
    return visit.patient.date_of_birth == date_of_birth


def _window_end(*, visit: Appointment) -> dt.datetime:
    """The latest a new time may start: a referral's `due_by` when the visit was booked from one
    (its clock started when it arrived), else the tier's window from the first booking of the
    visit's chain of moves (as booking counts it); or the visit's own start when a scheduler booked
    it past the window on purpose."""
    due_by = visit.referrals.values_list("due_by", flat=True).order_by("due_by").first()
    if due_by is not None:
        return due_by if visit.within_window else max(due_by, visit.start)
    anchor = visit.booked_at
    previous = visit.rescheduled_from
    for _ in range(50):  # a chain of moves, not a loop
        if previous is None:
            break
        anchor = min(anchor, previous.booked_at)
        previous = previous.rescheduled_from
    end = tier_window_end(tier=visit.tier, timezone=visit.location.timezone, now=anchor)
    return end if visit.within_window else max(end, visit.start)


def visit_times_offered(*, visit: Appointment, now: dt.datetime, stranded: bool | None = None) -> list[Slot]:
    """Free times the patient may move to: with the same surgeon (or, if the practice allows or
    the surgeon was deactivated, any surgeon at the same location), at the same location, inside
    the visit's window; a few a day over the first days that have any, so the patient sees a
    choice of days. A visit a closure stranded (`stranded`, default: whether it was texted so)
    is offered at least the next STRANDED_SEARCH, its window passed or not: the practice moved
    it, not the patient."""
    horizon = _window_end(visit=visit)
    if stranded is None:
        stranded = visit_is_stranded(visit=visit)
    if stranded:
        horizon = max(horizon, now + STRANDED_SEARCH)
    if horizon <= now or not visit.location.is_active:
        return []
    slots = slots_free(
        appointment_type=visit.appointment_type,
        tier=visit.tier,
        start=now,
        end=horizon,
        # A surgeon no longer working here (deactivated) leaves any surgeon at the location.
        surgeon_ids=None
        if settings.SELF_SERVICE_ANY_SURGEON or not visit.surgeon.is_active
        else [visit.surgeon_id],
        location_ids=[visit.location_id],
        now=now,
        exclude_appointment_id=visit.pk,
    )
    zone = zoneinfo.ZoneInfo(visit.location.timezone)
    per_day: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        day = slot.start.astimezone(zone).date()
        if slot.start == visit.start:
            continue
        if day not in per_day and len(per_day) == DAYS_OFFERED:
            break
        times = per_day.setdefault(day, [])
        if not times or times[-1].start != slot.start:  # one surgeon a time is enough to offer it
            times.append(slot)
    return [slot for times in per_day.values() for slot in _spread(times, TIMES_A_DAY)]


def _spread(times: list[Slot], count: int) -> list[Slot]:
    """`count` of a day's times, evenly over the day (the first and the last among them)."""
    if len(times) <= count:
        return times
    return [times[round(i * (len(times) - 1) / (count - 1))] for i in range(count)]


def visit_confirm(*, visit: Appointment, ip: str | None, now: dt.datetime) -> Appointment:
    confirmed = appointment_confirm(appointment=visit, now=now)
    access_record(action=VisitPageAction.CONFIRMED, visit=visit, ip=ip, now=now)
    return confirmed


def visit_cancel(*, visit: Appointment, reason_code: str, ip: str | None, now: dt.datetime) -> Appointment:
    """Cancelled by the patient; a late cancellation is flagged as booking always flags it."""
    reason = CANCEL_REASONS[reason_code]
    cancelled = appointment_cancel(
        appointment=visit, reason=f"Patient, from the text's link: {reason}", now=now
    )
    access_record(action=VisitPageAction.CANCELLED, visit=visit, ip=ip, now=now, detail=reason_code)
    return cancelled


def visit_move(
    *, visit: Appointment, start: dt.datetime, surgeon_id: int, ip: str | None, now: dt.datetime
) -> Appointment:
    """Move the visit to one of the offered times, through the schedulers' own reschedule
    service (atomic: refused, nothing changed). A time no longer offered raises SlotUnavailable."""
    offered = {(slot.start, slot.surgeon_id): slot for slot in visit_times_offered(visit=visit, now=now)}
    if (start, surgeon_id) not in offered:
        raise SlotUnavailable()
    surgeon = visit.surgeon if surgeon_id == visit.surgeon_id else Surgeon.objects.get(pk=surgeon_id)
    moved = appointment_reschedule(appointment=visit, start=start, surgeon=surgeon, now=now)
    access_record(
        action=VisitPageAction.RESCHEDULED, visit=visit, ip=ip, now=now, detail=f"to appointment {moved.pk}"
    )
    return moved
