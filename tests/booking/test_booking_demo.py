"""The demo data books upcoming visits through the booking service, once."""

from __future__ import annotations

import pytest

from booking.demo import demo_load
from booking.models import ACTIVE_STATUSES, Appointment, Patient

pytestmark = pytest.mark.django_db


def test_the_demo_books_each_demo_patient_one_upcoming_visit_and_loading_twice_adds_nothing() -> None:
    demo_load()
    patients = Patient.objects.filter(record_number__startswith="DEMO-")
    appointments = Appointment.objects.filter(patient__in=patients, status__in=ACTIVE_STATUSES)
    assert patients.count() == 4
    assert sorted(appointments.values_list("patient__record_number", flat=True)) == [
        "DEMO-0001",
        "DEMO-0002",
        "DEMO-0003",
        "DEMO-0004",
    ]
    demo_load()
    assert (Patient.objects.count(), Appointment.objects.count()) == (4, 4)
