"""Booking's writes, one concern a module; the names callers use are re-exported here.

- `patients`: patients.
- `appointments`: booking and moving a visit; `transitions`: confirm, check in, cancel, ...
- `waitlist`: waitlist entries, and offers of freed slots; `waitlist_accept`: a YES books one.
- `referrals`: referrals, the queue's clock, and their return to the queue.
- `surgeries`: surgeries and the follow-up windows a visit fulfils.
- `holds`: slots kept for a few minutes while a booking is completed.
- `conflicts`: the kept rows of visits that no longer fit.
- `events`: the visit events each change records for whoever reacts (notifications).
"""

from booking.services.appointments import (
    NEXT_SLOTS_OFFERED,
    RESCHEDULED_REASON,
    HoldExpired,
    HoldMismatch,
    InactiveReference,
    OutsideTierWindow,
    PatientUnavailable,
    SlotUnavailable,
    appointment_book,
    appointment_reschedule,
)
from booking.services.conflicts import visit_conflicts_current, visit_conflicts_refresh
from booking.services.events import event_record
from booking.services.holds import hold_create, hold_release
from booking.services.patients import (
    PatientHasAppointments,
    PossibleDuplicate,
    patient_create,
    patient_delete,
    patient_update,
    patient_validate,
)
from booking.services.referrals import (
    ReferralNotOpen,
    referral_close,
    referral_create,
    referral_due_by,
    referral_triage,
)
from booking.services.surgeries import (
    follow_up_link,
    follow_up_plan,
    follow_up_unlink,
    surgery_record,
    surgery_update,
)
from booking.services.transitions import (
    LATE_CANCELLATION,
    TRANSITIONS,
    InvalidTransition,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
)
from booking.services.waitlist import (
    slot_offer,
    waitlist_entries_expire,
    waitlist_entry_create,
    waitlist_entry_delete,
    waitlist_entry_update,
    waitlist_offer_open,
    waitlist_offer_recently_gone,
    waitlist_offers_lapse,
)
from booking.services.waitlist_accept import waitlist_offer_accept

__all__ = [
    "LATE_CANCELLATION",
    "NEXT_SLOTS_OFFERED",
    "RESCHEDULED_REASON",
    "TRANSITIONS",
    "HoldExpired",
    "HoldMismatch",
    "InactiveReference",
    "InvalidTransition",
    "OutsideTierWindow",
    "PatientHasAppointments",
    "PatientUnavailable",
    "PossibleDuplicate",
    "ReferralNotOpen",
    "SlotUnavailable",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_confirm",
    "appointment_no_show",
    "appointment_reschedule",
    "event_record",
    "follow_up_link",
    "follow_up_plan",
    "follow_up_unlink",
    "hold_create",
    "hold_release",
    "patient_create",
    "patient_delete",
    "patient_update",
    "patient_validate",
    "referral_close",
    "referral_create",
    "referral_due_by",
    "referral_triage",
    "slot_offer",
    "surgery_record",
    "surgery_update",
    "visit_conflicts_current",
    "visit_conflicts_refresh",
    "waitlist_entries_expire",
    "waitlist_entry_create",
    "waitlist_entry_delete",
    "waitlist_entry_update",
    "waitlist_offer_accept",
    "waitlist_offer_open",
    "waitlist_offer_recently_gone",
    "waitlist_offers_lapse",
]
