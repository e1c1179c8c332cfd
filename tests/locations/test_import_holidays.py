from __future__ import annotations

import datetime as dt
from io import StringIO

import holidays
import pytest
from django.core.management import CommandError, call_command

from locations.models import Closure
from tests.factories import ClosureFactory, LocationFactory

pytestmark = pytest.mark.django_db


def _import(*args: str) -> str:
    out = StringIO()
    call_command("import_holidays", *args, stdout=out)
    return out.getvalue()


def test_it_creates_a_whole_day_closure_for_each_us_holiday() -> None:
    location = LocationFactory()
    _import("--country", "US", "--year", "2027")
    closures = Closure.objects.filter(location=location)
    assert closures.count() == len(holidays.country_holidays("US", years=2027))
    july_4th = closures.get(start_date=dt.date(2027, 7, 4))
    assert (july_4th.end_date, july_4th.start_time, july_4th.reason) == (
        dt.date(2027, 7, 4),
        None,
        "Independence Day",
    )


def test_running_it_twice_adds_nothing() -> None:
    LocationFactory()
    _import("--country", "US", "--year", "2027")
    before = Closure.objects.count()
    assert _import("--country", "US", "--year", "2027").startswith("0 closures created")
    assert Closure.objects.count() == before


def test_a_day_already_closed_all_day_is_left_alone() -> None:
    location = LocationFactory()
    ClosureFactory(location=location, start_date="2027-12-24", end_date="2027-12-27", reason="Winter break")
    _import("--country", "US", "--year", "2027")
    assert not Closure.objects.filter(location=location, start_date=dt.date(2027, 12, 25)).exists()


def test_a_subdivision_adds_its_own_holidays() -> None:
    LocationFactory()
    _import("--country", "US", "--subdiv", "IL", "--year", "2027")
    assert Closure.objects.filter(reason__icontains="Lincoln").exists()


def test_it_can_target_one_location() -> None:
    chosen, other = LocationFactory(), LocationFactory()
    _import("--country", "US", "--year", "2027", "--location", str(chosen.pk))
    assert Closure.objects.filter(location=chosen).exists()
    assert not Closure.objects.filter(location=other).exists()


def test_inactive_locations_are_skipped_unless_named() -> None:
    LocationFactory(is_active=False)
    _import("--country", "US", "--year", "2027")
    assert not Closure.objects.exists()


@pytest.mark.parametrize(
    "args",
    [("--country", "XX", "--year", "2027"), ("--country", "US", "--subdiv", "ZZ", "--year", "2027")],
    ids=["unknown-country", "unknown-subdivision"],
)
def test_an_unknown_country_or_subdivision_is_a_clear_error(args: tuple[str, ...]) -> None:
    LocationFactory()
    with pytest.raises(CommandError):
        _import(*args)
    assert not Closure.objects.exists()


def test_an_unknown_location_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="No location"):
        _import("--country", "US", "--year", "2027", "--location", "999999")
