"""Tier windows end max_wait_days calendar days after now, at the end of that day in the location's
zone: across month ends, year ends, leap days and DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from booking.selectors import tier_window_end
from practice.models import UrgencyTier

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def window(code: str, now: dt.datetime, zone: str = "America/Chicago") -> dt.datetime:
    return tier_window_end(tier=UrgencyTier.objects.get(code=code), timezone=zone, now=now)


def test_an_urgent_window_crosses_the_month_end() -> None:
    now = dt.datetime(2027, 4, 29, 15, 0, tzinfo=CHICAGO)
    assert window("urgent", now) == dt.datetime(2027, 5, 3, 0, 0, tzinfo=CHICAGO)  # end of 2 May


def test_a_standard_window_crosses_the_year_end() -> None:
    now = dt.datetime(2027, 12, 24, 9, 0, tzinfo=CHICAGO)
    assert window("standard", now) == dt.datetime(2028, 1, 8, 0, 0, tzinfo=CHICAGO)  # end of 7 January


def test_new_years_eve_in_chicago_is_already_new_year_in_utc() -> None:
    now = dt.datetime(2028, 1, 1, 4, 0, tzinfo=dt.UTC)  # 22:00 on 31 December in Chicago
    assert window("urgent", now) == dt.datetime(2028, 1, 4, 0, 0, tzinfo=CHICAGO)  # end of 3 January


def test_the_window_counts_the_leap_day() -> None:
    now = dt.datetime(2028, 2, 27, 10, 0, tzinfo=CHICAGO)
    assert window("urgent", now) == dt.datetime(2028, 3, 2, 0, 0, tzinfo=CHICAGO)  # 28, 29 Feb, 1 Mar


def test_the_same_instant_gives_each_zone_its_own_end_of_day() -> None:
    now = dt.datetime(2027, 6, 30, 23, 30, tzinfo=dt.UTC)  # 30 June in Chicago, 1 July in Sydney
    assert window("urgent", now) == dt.datetime(2027, 7, 4, 0, 0, tzinfo=CHICAGO)
    assert window("urgent", now, "Australia/Sydney") == dt.datetime(
        2027, 7, 5, 0, 0, tzinfo=ZoneInfo("Australia/Sydney")
    )


def test_a_window_ending_after_spring_forward_ends_at_local_midnight() -> None:
    now = dt.datetime(2027, 3, 12, 12, 0, tzinfo=CHICAGO)  # CST; the window ends in CDT
    end = window("urgent", now)
    assert end == dt.datetime(2027, 3, 16, 0, 0, tzinfo=CHICAGO)
    assert end.utcoffset() == dt.timedelta(0) and end.astimezone(CHICAGO).utcoffset() == dt.timedelta(
        hours=-5
    )
