"""The demo data books upcoming visits through the booking service, once, and only into an empty
database: any row someone made means the demo writes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from booking.demo import DatabaseNotEmpty, demo_data_held, demo_load
from booking.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Patient, Referral, ReferralStatus
from locations.models import Location
from tests.factories import LocationFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_books_each_demo_patient_one_upcoming_visit() -> None:
    demo_load()
    patients = Patient.objects.filter(record_number__startswith="DEMO-")
    appointments = Appointment.objects.filter(patient__in=patients, status__in=ACTIVE_STATUSES)
    assert sorted(appointments.values_list("patient__record_number", flat=True)) == [
        "DEMO-0001",
        "DEMO-0002",
        "DEMO-0003",
        "DEMO-0004",
    ]


def test_the_demo_leaves_three_referrals_waiting_in_the_queue_the_urgent_one_first() -> None:
    demo_load()
    waiting = Referral.objects.filter(status=ReferralStatus.NEW).order_by("due_by")
    assert [referral.patient.record_number for referral in waiting] == ["DEMO-0006", "DEMO-0005", "DEMO-0007"]
    assert [referral.tier.code for referral in waiting] == ["urgent", "standard", "standard"]
    assert not Appointment.objects.filter(patient__referrals__in=waiting).exists()
    assert waiting[0].patient.language == "es"


def test_a_fresh_migrated_database_counts_as_empty_though_migrations_seed_roles_and_tiers() -> None:
    assert demo_data_held() == {}


def test_loading_the_demo_again_refuses_and_leaves_a_cancelled_demo_visit_cancelled() -> None:
    demo_load()
    visit = Appointment.objects.order_by("start").first()
    assert visit is not None
    Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.CANCELLED)

    with pytest.raises(DatabaseNotEmpty):
        demo_load()

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert Appointment.objects.count() == 4


def test_the_demo_refuses_a_database_holding_only_a_patient_someone_made() -> None:
    PatientFactory()
    with pytest.raises(DatabaseNotEmpty) as refused:
        demo_load()
    assert refused.value.held == {"patients": 1}
    assert (Patient.objects.count(), Location.objects.count()) == (1, 0)


def test_the_demo_refuses_a_database_holding_only_a_login_and_keeps_its_password() -> None:
    user = UserFactory(username="admin")
    user.set_password("mine")
    user.save()
    with pytest.raises(DatabaseNotEmpty):
        demo_load()
    user.refresh_from_db()
    assert user.check_password("mine")
    assert get_user_model().objects.count() == 1


def test_the_demo_refuses_a_database_holding_only_a_location() -> None:
    LocationFactory()
    with pytest.raises(DatabaseNotEmpty) as refused:
        demo_load()
    assert refused.value.held == {"locations": 1}
    assert Patient.objects.count() == 0
