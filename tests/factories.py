"""factory_boy factories for every model. Times are timezone-aware; zones are real IANA names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth.models import Group, User

from booking.models import Appointment, Hold, Patient, WaitlistEntry
from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from practice.models import AppointmentType, UrgencyTier
from practice.permissions import ADMINISTRATORS, SCHEDULERS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")


class AdministratorFactory(UserFactory):
    is_staff = True
    is_superuser = True

    @factory.post_generation
    def role(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get(name=ADMINISTRATORS))
            self.save()


class SchedulerFactory(UserFactory):
    @factory.post_generation
    def role(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get(name=SCHEDULERS))
            self.save()


class SurgeonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Surgeon

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    display_name = factory.LazyAttribute(lambda s: f"Dr. {s.first_name} {s.last_name}")
    specialties = factory.LazyFunction(lambda: ["spine"])


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentType
        django_get_or_create = ("code",)

    code = "new-consultation"
    name = "New consultation"
    duration_minutes = 60
    buffer_minutes = 0
    min_notice_hours = 0


def tier(code: str = "standard") -> UrgencyTier:
    """The tiers are seeded by a migration; tests use those rows."""
    return UrgencyTier.objects.get(code=code)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = "1 Lake Shore Drive, Chicago, IL"
    phone = "+13125550123"
    timezone = "America/Chicago"


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    location = factory.SubFactory(LocationFactory)
    weekday = 0
    opens = dt.time(8, 0)
    closes = dt.time(17, 0)


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    location = factory.SubFactory(LocationFactory)
    start_date = dt.date(2027, 1, 1)
    end_date = dt.date(2027, 1, 1)
    reason = "New Year's Day"


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Block

    surgeon = factory.SubFactory(SurgeonFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    start = dt.time(8, 0)
    end = dt.time(12, 0)
    valid_from = dt.date(2026, 1, 1)
    valid_until = None


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    surgeon = factory.SubFactory(SurgeonFactory)
    start = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
    end = dt.datetime(2027, 3, 5, 23, 0, tzinfo=dt.UTC)
    reason = "Conference"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = dt.date(1970, 5, 17)
    phone = factory.Sequence(lambda n: f"+1312555{n % 10000:04d}")
    sms_consent = True


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A booked visit written straight to the table (no service, no validation): for set-up."""

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    surgeon = factory.SubFactory(SurgeonFactory)
    location = factory.SubFactory(LocationFactory)
    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    tier = factory.LazyFunction(tier)
    start = dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC)
    end = factory.LazyAttribute(lambda a: a.start + dt.timedelta(minutes=a.appointment_type.duration_minutes))
    busy_until = factory.LazyAttribute(
        lambda a: a.end + dt.timedelta(minutes=a.appointment_type.buffer_minutes)
    )


class HoldFactory(factory.django.DjangoModelFactory):
    """A hold written straight to the table, unexpired for years: for set-up."""

    class Meta:
        model = Hold

    surgeon = factory.SubFactory(SurgeonFactory)
    location = factory.SubFactory(LocationFactory)
    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    tier = factory.LazyFunction(tier)
    start = dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC)
    end = factory.LazyAttribute(lambda a: a.start + dt.timedelta(minutes=a.appointment_type.duration_minutes))
    busy_until = factory.LazyAttribute(
        lambda a: a.end + dt.timedelta(minutes=a.appointment_type.buffer_minutes)
    )
    expires_at = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    patient = factory.SubFactory(PatientFactory)
    tier = factory.LazyFunction(tier)
    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    earliest_date = dt.date(2027, 3, 1)
    latest_date = dt.date(2027, 3, 31)


# A practice open for booking, for tests that go through the booking services or API: a Chicago
# clinic open Monday to Friday 08:00-17:00, one surgeon with a Monday block 08:00-12:00, a 30-minute
# visit type and one patient. Tests travel to BOOKING_NOW (a Monday); BOOKING_MONDAY is a week on,
# inside the standard tier's window (14 days) and outside the urgent one's (3 days).
BOOKING_NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
BOOKING_MONDAY = dt.date(2027, 3, 8)


@dataclass
class BookablePractice:
    location: Location
    surgeon: Surgeon
    visit: AppointmentType
    patient: Patient

    def at(self, hour: int, minute: int = 0, day: dt.date = BOOKING_MONDAY) -> dt.datetime:
        """A local wall-clock time at the clinic, timezone-aware."""
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(self.location.timezone))


def bookable_practice() -> BookablePractice:
    location = LocationFactory(timezone="America/Chicago")
    for weekday in range(5):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(17))
    block = BlockFactory(location=location, weekday=0, start=dt.time(8), end=dt.time(12))
    visit = AppointmentTypeFactory(code="follow-up", name="Follow-up", duration_minutes=30)
    return BookablePractice(location=location, surgeon=block.surgeon, visit=visit, patient=PatientFactory())
