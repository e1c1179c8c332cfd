"""STOP and START: a patient's consent to texts, per phone number as Twilio keeps it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from booking.models import Patient
from notifications.models import Message, SuppressedReason
from notifications.outbox import pending_suppress

# Why a patient's opt-out changed, in their history (consent records are kept for audits).
OPTED_OUT_BY_REPLY = "Replied STOP by SMS"
OPTED_OUT_BY_CARRIER = "Twilio reported the number opted out (error 21610)"
OPTED_IN_BY_REPLY = "Replied START by SMS"


def _same_phone(patient: Patient) -> Q:
    # Twilio's opt-out is per phone number: a family phone stops (and starts) for everyone on it.
    return Q(pk=patient.pk) | Q(phone=patient.phone)


def _opt_out_set(*, patient: Patient, at: dt.datetime | None, reason: str) -> None:
    """Set `sms_opted_out_at` for everyone on the patient's phone whose value differs, with a
    history row each naming `reason`."""
    with transaction.atomic():
        changing = list(
            # no_key: a lock that still lets bookings' foreign-key checks read the patient row.
            Patient.objects.select_for_update(no_key=True)
            .filter(_same_phone(patient), sms_opted_out_at__isnull=at is not None)  # those it changes
            .order_by("pk")
        )
        for sharing in changing:
            sharing.sms_opted_out_at = at
        bulk_update_with_history(changing, Patient, ["sms_opted_out_at"], default_change_reason=reason)


def patient_opt_out(*, patient: Patient, reason: str = OPTED_OUT_BY_REPLY) -> None:
    """STOP: nothing more is sent. Rows already waiting are kept, as suppressed."""
    _opt_out_set(patient=patient, at=timezone.now(), reason=reason)
    pending_suppress(
        Message.objects.filter(patient__in=Patient.objects.filter(_same_phone(patient))),
        SuppressedReason.OPTED_OUT,
    )


def patient_opt_in(*, patient: Patient) -> None:
    """START: texts flow again for everyone on the phone."""
    _opt_out_set(patient=patient, at=None, reason=OPTED_IN_BY_REPLY)
