"""Delivery status callbacks: Twilio tells what became of a text, late and out of order."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from notifications.consent import OPTED_OUT_BY_CARRIER, patient_opt_out
from notifications.models import Message, MessageStatus
from notifications.transports import TWILIO_OPTED_OUT_CODE
from notifications.worklist import worklist_failure_add

# Twilio's statuses in the order they happen; a late callback never moves a row backwards.
STATUS_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.QUEUED: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.UNDELIVERED: 4,
    MessageStatus.FAILED: 4,
}
# Twilio's statuses we record; "accepted", "scheduled" and "sending" mean queued to us.
TWILIO_STATUSES = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.QUEUED,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
}


def message_status_record(
    *, provider_sid: str, status: str, error_code: str = "", message_id: int | None = None
) -> Message | None:
    """Twilio told us what became of a text. Callbacks arrive late and out of order."""
    new_status = TWILIO_STATUSES.get(status.strip().lower())
    if new_status is None:
        return None
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(provider_sid=provider_sid).first()
        if message is None and message_id is not None:
            # The worker that sent it died before recording the sid: the callback tells us.
            message = (
                Message.objects.select_for_update()
                .filter(id=message_id, provider_sid__isnull=True, status=MessageStatus.SENDING)
                .first()
            )
            if message is not None:
                message.provider_sid = provider_sid
        if message is None:
            return None
        if STATUS_RANK.get(MessageStatus(message.status), -1) > STATUS_RANK[new_status]:
            return message
        now = timezone.now()
        message.status = new_status
        if error_code:
            message.error_code = error_code[:20]
        if new_status == MessageStatus.DELIVERED:
            message.delivered_at = now
        message.save()
        if error_code == TWILIO_OPTED_OUT_CODE:
            patient_opt_out(patient=message.patient, reason=OPTED_OUT_BY_CARRIER)
        if new_status in {MessageStatus.FAILED, MessageStatus.UNDELIVERED}:
            worklist_failure_add(
                message=message,
                summary=f"A {message.get_kind_display().lower()} text was {new_status} "
                f"(error {error_code or 'none'}).",
            )
    return message
