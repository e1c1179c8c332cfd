from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from booking.models import Appointment
from locations.models import Block, Closure, Location, Surgeon
from practice.models import AppointmentType
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_has_three_locations_in_two_zones_with_hours() -> None:
    _load()
    assert Location.objects.count() >= 3
    assert {"America/Chicago", "America/Phoenix"} <= set(Location.objects.values_list("timezone", flat=True))
    assert all(location.hours.exists() for location in Location.objects.all())


def test_the_demo_has_six_surgeons_each_with_one_urgent_block_a_week() -> None:
    _load()
    assert Surgeon.objects.count() >= 6
    for surgeon in Surgeon.objects.all():
        assert surgeon.blocks.filter(reserved_for_tier__code="urgent").count() == 1, surgeon


def test_some_demo_surgeons_work_at_two_locations_on_different_days() -> None:
    _load()
    travelling = [s for s in Surgeon.objects.all() if s.blocks.values("location").distinct().count() > 1]
    assert travelling
    for surgeon in travelling:
        days = {
            location: set(surgeon.blocks.filter(location=location).values_list("weekday", flat=True))
            for location in surgeon.blocks.values_list("location", flat=True)
        }
        first, *others = days.values()
        assert all(not (first & other) for other in others)


def test_the_demo_has_the_four_appointment_types() -> None:
    _load()
    durations = dict(AppointmentType.objects.values_list("code", "duration_minutes"))
    assert durations == {
        "new-consultation": 60,
        "second-opinion": 60,
        "post-op-follow-up": 20,
        "imaging-review": 30,
    }


def test_the_demo_closes_every_location_on_next_years_independence_day() -> None:
    _load()
    next_year = timezone.now().year + 1
    for location in Location.objects.all():
        assert location.closures.filter(start_date=f"{next_year}-07-04").exists()


def test_loading_the_demo_says_it_loaded_and_prints_the_logins() -> None:
    output = _load()
    assert output.startswith("demo loaded:")
    assert "login admin / admin-demo-password" in output


def test_loading_the_demo_twice_skips_the_second_time_adds_nothing_and_prints_no_logins() -> None:
    _load()
    counts = (
        Location.objects.count(),
        Surgeon.objects.count(),
        Block.objects.count(),
        Closure.objects.count(),
        Appointment.objects.count(),
    )
    output = _load()
    assert counts == (
        Location.objects.count(),
        Surgeon.objects.count(),
        Block.objects.count(),
        Closure.objects.count(),
        Appointment.objects.count(),
    )
    assert output.startswith("demo skipped: the database already holds data (")
    assert "password" not in output


def test_load_demo_refuses_with_an_error_when_asked_to_and_the_database_holds_data() -> None:
    PatientFactory()
    with pytest.raises(CommandError, match="the database already holds data \\(patients: 1\\)"):
        call_command("load_demo", "--refuse-if-not-empty", stdout=StringIO())
    assert Location.objects.count() == 0
