"""SMS messages (the outbox), inbound replies and the scheduler worklist.

A message row exists before the send and records its outcome after: the table is the audit
trail. A unique `dedupe_key` per (cause, kind) makes a duplicate row impossible.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from booking.models import Appointment, FollowUpWindow, Patient, WaitlistOffer


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    FOLLOW_UP = "follow_up"
    WAITLIST_OFFER = "waitlist_offer"
    WAITLIST_GONE = "waitlist_gone"
    # A closure (or an inactive clinic) strands the visit: pick a new time from the link.
    STRANDED = "stranded"
    REFERRAL_RECEIVED = "referral_received"


class MessageStatus(models.TextChoices):
    # Ours: waiting in the outbox, and claimed by one worker.
    PENDING = "pending"
    SENDING = "sending"
    # Twilio's, from the send's answer and the status callbacks.
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    # Never sent: the patient opted out, or the visit moved or was cancelled.
    SUPPRESSED = "suppressed"


class SuppressedReason(models.TextChoices):
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    VISIT_CHANGED = "visit_changed"
    NO_LONGER_RELEVANT = "no_longer_relevant"


class Message(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sms_messages")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_messages"
    )
    follow_up = models.ForeignKey(
        FollowUpWindow, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_messages"
    )
    offer = models.ForeignKey(
        WaitlistOffer, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_messages"
    )
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    dedupe_key = models.CharField(max_length=120, unique=True, help_text="One row per (cause, kind).")
    to = models.CharField(max_length=20, help_text="E.164, as sent.")
    body = models.TextField()
    # Quiet hours are computed in this zone (the visit's location, or the practice's default).
    timezone = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    suppressed_reason = models.CharField(max_length=30, choices=SuppressedReason.choices, blank=True)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep: due rows and stranded claims.
            models.Index(fields=["due_at"], name="message_pending_due", condition=Q(status="pending")),
            models.Index(fields=["claimed_at"], name="message_sending", condition=Q(status="sending")),
            models.Index(fields=["patient", "-created_at"]),
            # An inbound text finds its patient by the number last texted (a family phone).
            models.Index(fields=["to", "-created_at"], name="message_to_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to patient {self.patient_id} ({self.status})"


class ReplyIntent(models.TextChoices):
    YES = "yes"
    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"
    STOP = "stop"
    START = "start"
    HELP = "help"
    LANGUAGE = "language"  # ESPAÑOL or ENGLISH: texts in that language from now on
    OTHER = "other"


class InboundMessage(models.Model):
    """A patient's text to the practice, recorded once per Twilio MessageSid."""

    provider_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=20)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_replies"
    )
    body = models.TextField(blank=True)
    intent = models.CharField(max_length=20, choices=ReplyIntent.choices)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.intent} from {self.patient_id or 'unknown'}"


class WorklistKind(models.TextChoices):
    CALL_BACK = "call_back"
    REPLY = "reply"
    FAILED_MESSAGE = "failed_message"
    # A clinic closed on a visit's day: the patient has no consent to texts, or did not pick a
    # new time from the link within a day.
    CLOSURE = "closure"


class WorklistItem(models.Model):
    """Something a scheduler must look at: a reply needing a human, a failed text."""

    kind = models.CharField(max_length=20, choices=WorklistKind.choices)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="worklist_items"
    )
    inbound = models.OneToOneField(
        InboundMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="worklist_item"
    )
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="worklist_item"
    )
    summary = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at"], name="worklist_open", condition=Q(resolved_at=None))]

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"


class VisitPageAction(models.TextChoices):
    OPENED = "opened"
    BAD_LINK = "bad_link"
    BIRTH_DATE_REFUSED = "birth_date_refused"
    BIRTH_DATE_ACCEPTED = "birth_date_accepted"
    TIMES_SHOWN = "times_shown"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    THROTTLED = "throttled"


class VisitPageAccess(models.Model):
    """What someone holding a visit's link did on its page, append-only: the patient-side audit
    trail (the practice's `AuditEntry` names a staff user), and the count that throttles guessing."""

    action = models.CharField(max_length=20, choices=VisitPageAction.choices)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="page_accesses"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="page_accesses"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "visit page accesses"
        indexes = [
            models.Index(fields=["appointment", "action", "at"], name="visit_page_by_visit"),
            models.Index(fields=["ip", "action", "at"], name="visit_page_by_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.action} on appointment {self.appointment_id}"
