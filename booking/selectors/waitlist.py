"""Waitlist reads: who a freed slot would suit."""

from __future__ import annotations

from django.db.models import Q

from booking.availability import zone
from booking.models import Appointment, WaitlistEntry, WaitlistStatus


def waitlist_matches(*, appointment: Appointment) -> list[WaitlistEntry]:
    """Waiting entries the slot `appointment` held would suit, most urgent tier first, then oldest.

    Same visit type; the entry's surgeon and location, when given, match; the visit's local date
    (at its location) lies within the entry's dates; never the patient who gave the slot up.
    """
    day = appointment.start.astimezone(zone(appointment.location.timezone)).date()
    return list(
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING,
            appointment_type_id=appointment.appointment_type_id,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .filter(Q(surgeon__isnull=True) | Q(surgeon_id=appointment.surgeon_id))
        .filter(Q(location__isnull=True) | Q(location_id=appointment.location_id))
        .exclude(patient_id=appointment.patient_id)
        .select_related("patient", "tier")
        .order_by("-tier__rank", "created_at", "id")
    )
