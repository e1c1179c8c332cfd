"""The demo practice for `make run` (`manage.py load_demo`): demo patients, each with an upcoming
visit booked through the booking service, and three referrals waiting in the queue, after the
apps below have loaded theirs.

It loads only into an empty database: a cancelled demo visit, a patient, a login anyone made is
the user's data, and a second load would book over it, text the patients again or take slots
offered from the waitlist.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from booking.models import ACTIVE_STATUSES, Appointment, Patient
from booking.selectors import slots_earliest
from booking.services import appointment_book, patient_create, referral_create
from locations.demo import demo_load as locations_demo_load
from locations.models import Location, Surgeon
from practice.demo import demo_load as practice_demo_load
from practice.errors import DomainError
from practice.models import AppointmentType, UrgencyTier

PATIENTS = [
    # first, last, date of birth, phone, record number, visit type code, tier code
    ("Ruth", "Alvarez", dt.date(1958, 6, 2), "+13125550181", "DEMO-0001", "new-consultation", "standard"),
    ("Tomasz", "Nowak", dt.date(1972, 11, 19), "+13125550182", "DEMO-0002", "second-opinion", "standard"),
    ("Grace", "Oyelaran", dt.date(1985, 2, 27), "+16305550183", "DEMO-0003", "post-op-follow-up", "standard"),
    ("Henry", "Becker", dt.date(1949, 8, 8), "+16025550184", "DEMO-0004", "new-consultation", "urgent"),
]

REFERRALS = [
    # first, last, date of birth, phone, record number, language, tier code, days since it arrived, source
    (
        "Amara",
        "Singh",
        dt.date(1966, 4, 14),
        "+13125550185",
        "DEMO-0005",
        "en",
        "standard",
        9,
        "Dr. Chen, Northside Family Medicine",
    ),
    (
        "Luis",
        "Moreno",
        dt.date(1979, 9, 3),
        "+16305550186",
        "DEMO-0006",
        "es",
        "urgent",
        1,
        "Mercy Hospital emergency department",
    ),
    (
        "Ellen",
        "Park",
        dt.date(1990, 1, 22),
        "+16025550187",
        "DEMO-0007",
        "en",
        "standard",
        3,
        "Dr. Osei, Desert Sports Medicine",
    ),
]


class DatabaseNotEmpty(Exception):
    """The demo refuses a database holding rows someone made; `held` counts them by kind."""

    def __init__(self, held: dict[str, int]) -> None:
        self.held = held
        listed = ", ".join(f"{kind}: {count}" for kind, count in held.items())
        super().__init__(f"the database already holds data ({listed})")


def demo_data_held() -> dict[str, int]:
    """The rows, by kind, that make a database not empty for the demo: logins and everything a
    practice sets up or books (what migrations seed, roles and urgency tiers, does not count).
    Every other table hangs off one of these (hours off a location, texts off a patient)."""
    counts = {
        "logins": get_user_model().objects.count(),
        "appointment types": AppointmentType.objects.count(),
        "locations": Location.objects.count(),
        "surgeons": Surgeon.objects.count(),
        "patients": Patient.objects.count(),
        "appointments": Appointment.objects.count(),
    }
    return {kind: count for kind, count in counts.items() if count}


@transaction.atomic
def demo_load() -> list[str]:
    """Load the whole demo practice into an empty database, lowest app first (logins; locations,
    surgeons and their templates; patients and their visits); returns lines describing what a
    visitor can use. Raises DatabaseNotEmpty, having written nothing, if any row is there."""
    held = demo_data_held()
    if held:
        raise DatabaseNotEmpty(held)
    lines = practice_demo_load()
    lines += locations_demo_load()
    lines += _patients_load()
    lines += _referrals_load()
    return lines


def _patients_load() -> list[str]:
    """The demo patients, each with a visit booked; returns lines describing them."""
    now = timezone.now()
    lines: list[str] = []
    for first, last, born, phone, record, type_code, tier_code in PATIENTS:
        patient = Patient.objects.filter(record_number=record).first() or patient_create(
            first_name=first,
            last_name=last,
            date_of_birth=born,
            phone=phone,
            sms_consent=True,
            record_number=record,
        )
        upcoming = (
            Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES, start__gt=now)
            .order_by("start")
            .first()
        )
        if upcoming is None:
            upcoming = _book_earliest(patient=patient, type_code=type_code, tier_code=tier_code, now=now)
        if upcoming is not None:
            lines.append(
                f"patient {patient} ({record}): {upcoming.appointment_type} on {upcoming.start:%Y-%m-%d %H:%M} UTC"
            )
    return lines


def _referrals_load() -> list[str]:
    """Patients referred and not yet booked: the scheduler's queue (`/api/v1/referrals/?status=open`)."""
    now = timezone.now()
    appointment_type = AppointmentType.objects.filter(code="new-consultation").first()
    lines: list[str] = []
    for first, last, born, phone, record, language, tier_code, days_ago, source in REFERRALS:
        tier = UrgencyTier.objects.filter(code=tier_code).first()
        if appointment_type is None or tier is None:
            continue
        patient = patient_create(
            first_name=first,
            last_name=last,
            date_of_birth=born,
            phone=phone,
            sms_consent=True,
            record_number=record,
            language=language,
        )
        referral = referral_create(
            patient=patient,
            tier=tier,
            appointment_type=appointment_type,
            received_at=now - dt.timedelta(days=days_ago),
            source=source,
            now=now,
        )
        lines.append(f"referral of {patient} ({record}, {tier_code}): due by {referral.due_by:%Y-%m-%d} UTC")
    return lines


def _book_earliest(
    *, patient: Patient, type_code: str, tier_code: str, now: dt.datetime
) -> Appointment | None:
    appointment_type = AppointmentType.objects.filter(code=type_code).first()
    tier = UrgencyTier.objects.filter(code=tier_code).first()
    if appointment_type is None or tier is None:
        return None
    for slot in slots_earliest(appointment_type=appointment_type, tier=tier, now=now, limit=5):
        try:
            return appointment_book(
                patient=patient,
                surgeon=Surgeon.objects.get(pk=slot.surgeon_id),
                location=Location.objects.get(pk=slot.location_id),
                appointment_type=appointment_type,
                tier=tier,
                start=slot.start,
                reason="Demo visit",
                window_override_reason="Demo data: the earliest slot",
                now=now,
            )
        except DomainError:
            continue  # taken by an earlier demo patient's overlap; try the next
    return None
