"""Patients, their appointments, the waitlist and its offers, surgeries with their follow-up
windows, and the events booking records for whoever reacts to them (notifications)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from locations.models import Location, Surgeon
from practice.db import PostgresExclusionConstraint, TsTzRange
from practice.models import AppointmentType, UrgencyTier


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = PhoneNumberField(help_text="Mobile, stored E.164.")
    sms_consent = models.BooleanField(default=False)
    # Set by an inbound STOP (or Twilio error 21610), cleared by START.
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    # Unique whatever the case (see Meta): "mrn-42" is the same record as "MRN-42".
    record_number = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (none is NULL: the unique index skips it)
    preferred_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # BCP 47: the texts and the visit page are in this language (settings.LANGUAGES).
    language = models.CharField(max_length=16, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["last_name", "first_name"]), models.Index(fields=["phone"])]
        constraints = [
            # Upper, as Django's iexact compares on PostgreSQL: the search uses this index too.
            models.UniqueConstraint(Upper("record_number"), name="patient_record_number_unique_any_case"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class AppointmentStatus(models.TextChoices):
    # FHIR Appointment.status, the subset a practice uses.
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# Statuses that hold their time: the surgeon (and patient) cannot be booked over them.
ACTIVE_STATUSES = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
]


class Appointment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    surgeon = models.ForeignKey(Surgeon, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    tier = models.ForeignKey(UrgencyTier, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # end + the type's buffer: the surgeon is busy until then. Stored so the database can
    # enforce "no double booking" on it.
    busy_until = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    reason = models.TextField(blank=True, help_text="Internal; never sent by SMS.")
    within_window = models.BooleanField(default=True, help_text="Booked inside its tier's window.")
    window_override_reason = models.TextField(blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)
    late_cancellation = models.BooleanField(default=False)
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["surgeon", "start"]),
            models.Index(fields=["location", "start"]),
            models.Index(fields=["patient", "start"]),
            models.Index(fields=["status", "start"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(
                condition=Q(busy_until__gte=F("end")), name="appointment_busy_until_not_before_end"
            ),
            PostgresExclusionConstraint(
                name="appointment_no_surgeon_double_booking",
                expressions=[
                    (TsTzRange("start", "busy_until", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("surgeon", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=ACTIVE_STATUSES),
                violation_error_message="The surgeon already has an appointment at that time.",
            ),
            PostgresExclusionConstraint(
                name="appointment_no_patient_double_booking",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=ACTIVE_STATUSES),
                violation_error_message="The patient already has an appointment at that time.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} with {self.surgeon} at {self.start:%Y-%m-%d %H:%M} UTC"


class Hold(models.Model):
    """A slot kept for a few minutes (HOLD_MINUTES) while a scheduler or a portal completes a
    booking: search hides it and only a booking naming it takes its time.

    Holds take part in the no-overlap guarantee: PostgreSQL refuses a hold overlapping another
    one for the same surgeon, and a hold and a booking of the same surgeon are written under the
    surgeon's transaction lock (`booking.services.deadlocks.surgeon_serialised`), each checking
    the other first. An expired hold is deleted by the first write that needs its time, so expiry
    needs no task.
    """

    surgeon = models.ForeignKey(Surgeon, on_delete=models.CASCADE, related_name="holds")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="holds")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE, related_name="+")
    tier = models.ForeignKey(UrgencyTier, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    referral = models.ForeignKey(
        "Referral",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="holds",
        help_text="Booked from this referral: the window was checked against its due_by.",
    )
    window_override_reason = models.TextField(
        blank=True, help_text="Why a start past the tier's window is held; its booking inherits it."
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    busy_until = models.DateTimeField()
    expires_at = models.DateTimeField()
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["surgeon", "start"]), models.Index(fields=["expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="hold_end_after_start"),
            models.CheckConstraint(
                condition=Q(busy_until__gte=F("end")), name="hold_busy_until_not_before_end"
            ),
            PostgresExclusionConstraint(
                name="hold_no_surgeon_double_hold",
                expressions=[
                    (TsTzRange("start", "busy_until", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("surgeon", RangeOperators.EQUAL),
                ],
                violation_error_message="The surgeon's time is already held.",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold of {self.surgeon} at {self.start:%Y-%m-%d %H:%M} UTC until {self.expires_at:%H:%M}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"


class WaitlistEntry(models.Model):
    """A patient who wants an earlier visit; served by tier rank, then age."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    tier = models.ForeignKey(UrgencyTier, on_delete=models.PROTECT, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    surgeon = models.ForeignKey(Surgeon, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    earliest_date = models.DateField()
    latest_date = models.DateField()
    status = models.CharField(max_length=20, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tier__rank", "created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_date__gte=F("earliest_date")), name="waitlist_latest_not_before_earliest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.appointment_type} ({self.tier})"


class WaitlistOfferStatus(models.TextChoices):
    OPEN = "open"
    ACCEPTED = "accepted"
    GONE = "gone"


class WaitlistOffer(models.Model):
    """A freed slot offered to one waitlist patient; the first YES among its siblings wins."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    # The cancelled visit whose time is offered; the siblings of an offer share it.
    freed = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="waitlist_offers")
    status = models.CharField(
        max_length=20, choices=WaitlistOfferStatus.choices, default=WaitlistOfferStatus.OPEN
    )
    booked = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Made by notifications before offers became booking's (migration 0004 moved the model).
        db_table = "notifications_waitlistoffer"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "freed"], name="waitlist_offer_once_per_slot"),
            models.UniqueConstraint(
                fields=["freed"],
                condition=Q(status="accepted"),
                name="waitlist_offer_one_winner_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"Offer of slot {self.freed_id} to entry {self.entry_id} ({self.status})"


class Surgery(models.Model):
    """A surgery on record; it starts the patient's post-operative follow-up plan."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="surgeries")
    surgeon = models.ForeignKey(Surgeon, on_delete=models.PROTECT, related_name="surgeries")
    performed_on = models.DateField()
    procedure = models.CharField(max_length=200, help_text="Internal; never sent by SMS.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_on", "id"]
        verbose_name_plural = "surgeries"

    def __str__(self) -> str:
        return f"Surgery of {self.patient} on {self.performed_on}"


class FollowUpWindow(models.Model):
    """A span after surgery in which a follow-up visit is due (say, 6 weeks after)."""

    surgery = models.ForeignKey(Surgery, on_delete=models.CASCADE, related_name="follow_ups")
    label = models.CharField(max_length=40)
    opens_on = models.DateField(db_index=True)
    closes_on = models.DateField()
    # The booked visit inside the window that fulfils it.
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_up_windows"
    )
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opens_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["surgery", "label"], name="follow_up_window_unique_label"),
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")), name="follow_up_window_closes_after_opens"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} follow-up ({self.opens_on} to {self.closes_on})"


class ReferralStatus(models.TextChoices):
    NEW = "new"
    TRIAGED = "triaged"
    SCHEDULED = "scheduled"
    CLOSED = "closed"


# A referral waiting for a visit: the scheduler's queue.
OPEN_REFERRAL_STATUSES = [ReferralStatus.NEW, ReferralStatus.TRIAGED]


class ReferralCloseReason(models.TextChoices):
    BOOKED_ELSEWHERE = "booked_elsewhere"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    DUPLICATE = "duplicate"


class Referral(models.Model):
    """A request from a referring clinician to see a patient. The tier's clock starts when it
    arrives (`received_at`), not when someone books: `due_by` is the end of the local day
    `max_wait_days` after it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    tier = models.ForeignKey(UrgencyTier, on_delete=models.PROTECT, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    source = models.CharField(max_length=200, blank=True, help_text="Referring clinician or practice.")
    preferred_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    preferred_surgeon = models.ForeignKey(
        Surgeon, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="Internal; never sent by SMS.")
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    close_reason = models.CharField(max_length=20, choices=ReferralCloseReason.choices, blank=True)
    due_by = models.DateTimeField(help_text="The end of the tier's window, from received_at.")
    triaged_at = models.DateTimeField(null=True, blank=True)
    # The visit booked for it, while scheduled (and kept once the visit happened).
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_by", "id"]
        indexes = [models.Index(fields=["status", "due_by"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(close_reason=""), name="referral_closed_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Referral of {self.patient} ({self.tier}, {self.status})"


class VisitEventKind(models.TextChoices):
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"  # the event's visit is the new one; payload["previous"] the old
    CANCELLED = "cancelled"
    # The visit was cancelled or moved and its slot offered to waitlist patients: payload["offers"].
    SLOT_FREED = "slot_freed"
    # A waitlist patient took the freed slot (the event's visit); payload["gone"]: the offers
    # of the others, now gone.
    SLOT_TAKEN = "slot_taken"
    # A referral arrived (the event's referral; no visit yet).
    REFERRAL_RECEIVED = "referral_received"


class VisitEvent(models.Model):
    """What happened to a visit, written in the transaction that did it (healthchecks' `Flip`).

    Booking only records; whoever reacts (notifications' texts) claims each row once by a
    conditional UPDATE of `handled_at`, in the transaction that writes its reaction. A lost
    hand-off is a delay, never a loss: the sweep finds rows still unhandled.
    """

    kind = models.CharField(max_length=20, choices=VisitEventKind.choices)
    # Null only for events about a referral before any visit (`referral_received`).
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at"], name="visit_event_unhandled", condition=Q(handled_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of appointment {self.appointment_id}"


class SimulationStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SimulationRun(models.Model):
    """One access simulation asked for by an administrator (issue 18): its inputs, its progress
    while a worker runs it, and its result (JSON and a PNG chart). The simulation only reads the
    practice's data; this row is all it writes."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inputs = models.JSONField()
    status = models.CharField(
        max_length=10, choices=SimulationStatus.choices, default=SimulationStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    result = models.JSONField(null=True, blank=True)
    chart_png = models.BinaryField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"simulation {self.pk} ({self.status})"


class VisitConflict(models.Model):
    """A visit that no longer fits availability, and why (locations.visits.CONFLICT_*): kept so
    the conflict list and the worklist read rows instead of judging every future visit.

    Kept on PostgreSQL only: triggers note every change to visits, hours, closures, blocks, time
    off, locations and surgeons as `ConflictRecheck` rows, and `visit_conflicts_refresh` judges
    again the visits those name before each read. No database constraint on the visit: a row of
    a deleted visit is simply never read (reads join the active visits)."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.DO_NOTHING, primary_key=True, db_constraint=False, related_name="+"
    )
    reason = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"appointment {self.appointment_id}: {self.reason}"


class ConflictRecheck(models.Model):
    """Which visits to judge again, written by the database's triggers: one visit, a surgeon's,
    a location's, a surgeon's at a location, or (all empty) every visit."""

    surgeon_id = models.BigIntegerField(null=True)
    location_id = models.BigIntegerField(null=True)
    appointment_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"recheck surgeon {self.surgeon_id} location {self.location_id} visit {self.appointment_id}"
