"""The practice's calendar day.

Times are stored in UTC, and anything tied to a location is computed in that location's zone.
Dates tied to no location (a date of birth, a waitlist entry's last acceptable day, a surgery
date, the follow-up list) are the practice's: they turn over at midnight in its home zone,
SMS_DEFAULT_TIMEZONE, never at midnight UTC (six in the evening in Chicago).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone


def practice_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in the practice's home zone."""
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(settings.SMS_DEFAULT_TIMEZONE)).date()
