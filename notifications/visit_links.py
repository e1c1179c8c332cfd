"""The self-service link in a visit's texts: `PUBLIC_BASE_URL/v/<token>`.

The token is the visit's id (base 36) and 72 bits of an HMAC, keyed by SECRET_KEY, over the id and
the visit's start: short enough for a text to stay within two segments, unguessable, and bound to
one visit. Nothing is stored. It stops working when the visit starts, and when the visit is
cancelled or moved (a move makes a new visit and cancels the old; a start that changed in place
no longer matches the signature).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.http import base36_to_int, int_to_base36

from booking.models import Appointment, AppointmentStatus

_SALT = "notifications.visit_link"
_SIGNATURE_CHARS = 12  # 72 bits, base64url
# A link works while its visit is still one the patient can act on.
LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


def _signature(appointment_id: int, start: dt.datetime) -> str:
    digest = salted_hmac(_SALT, f"{appointment_id}:{int(start.timestamp())}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def visit_link_token(*, appointment: Appointment) -> str:
    return f"{int_to_base36(appointment.pk)}-{_signature(appointment.pk, appointment.start)}"


def visit_link_url(*, appointment: Appointment) -> str:
    base = str(settings.PUBLIC_BASE_URL).rstrip("/")
    return f"{base}/v/{visit_link_token(appointment=appointment)}"


def visit_link_id(token: str) -> int | None:
    """The visit id a token claims (unverified), or None for a malformed one."""
    head, _, signature = token.partition("-")
    if not head or len(head) > 12 or len(signature) != _SIGNATURE_CHARS:
        return None
    try:
        return base36_to_int(head)
    except ValueError:
        return None


def visit_for_link(*, token: str, now: dt.datetime) -> Appointment | None:
    """The visit a token opens, with its patient and location; None when the token is wrong or
    no longer valid (the visit started, was cancelled or was moved)."""
    appointment_id = visit_link_id(token)
    if appointment_id is None:
        return None
    visit = (
        Appointment.objects.select_related("patient", "location", "surgeon", "appointment_type", "tier")
        .filter(pk=appointment_id)
        .first()
    )
    if visit is None:
        return None
    expected = _signature(visit.pk, visit.start)
    if not hmac.compare_digest(expected, token.partition("-")[2]):
        return None
    if visit.status not in LIVE or visit.start <= now:
        return None
    return visit
