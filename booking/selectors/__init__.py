"""Booking's reads, one module per concern: the calendar loader, slots, conflicts, access reports,
the waitlist, appointments and patients. Callers import from `booking.selectors`, as they did when
it was one module."""

from booking.selectors.appointments import appointments_with_details
from booking.selectors.calendar import LONGEST_VISIT
from booking.selectors.conflicts import (
    AppointmentConflict,
    appointment_conflicts,
    future_appointments_exist,
    visit_conflicts_kept,
)
from booking.selectors.patients import (
    PATIENT_SEARCH_MIN_PHONE_DIGITS,
    PatientTexts,
    TextsWithheld,
    patient_search,
    patient_texts,
)
from booking.selectors.referrals import (
    referral_days_left,
    referral_open_for_booking,
    referrals_earliest_slots,
    referrals_open,
    referrals_with_details,
)
from booking.selectors.reports import (
    ACCESS_STEPS_DAYS,
    DEFAULT_ACCESS_TYPE,
    ThirdNextAvailable,
    TierAccess,
    access_report,
    access_type_default,
    bookings_by_window,
    third_next_available,
)
from booking.selectors.slots import (
    EARLIEST_STEPS_DAYS,
    SlotsInWindow,
    refusal_message,
    slot_is_free,
    slot_key,
    slot_refusal,
    slot_rules,
    slots_earliest,
    slots_free,
    slots_in_window,
    slots_next,
    slots_page,
    tier_window_end,
)
from booking.selectors.surgeries import FollowUpState, follow_ups_list, surgeries_list
from booking.selectors.waitlist import waitlist_matches

__all__ = [
    "ACCESS_STEPS_DAYS",
    "DEFAULT_ACCESS_TYPE",
    "EARLIEST_STEPS_DAYS",
    "LONGEST_VISIT",
    "PATIENT_SEARCH_MIN_PHONE_DIGITS",
    "AppointmentConflict",
    "FollowUpState",
    "PatientTexts",
    "SlotsInWindow",
    "TextsWithheld",
    "ThirdNextAvailable",
    "TierAccess",
    "access_report",
    "access_type_default",
    "appointment_conflicts",
    "appointments_with_details",
    "bookings_by_window",
    "follow_ups_list",
    "future_appointments_exist",
    "patient_search",
    "patient_texts",
    "referral_days_left",
    "referral_open_for_booking",
    "referrals_earliest_slots",
    "referrals_open",
    "referrals_with_details",
    "refusal_message",
    "slot_is_free",
    "slot_key",
    "slot_refusal",
    "slot_rules",
    "slots_earliest",
    "slots_free",
    "slots_in_window",
    "slots_next",
    "slots_page",
    "surgeries_list",
    "third_next_available",
    "tier_window_end",
    "visit_conflicts_kept",
    "waitlist_matches",
]
