"""What every app's admin shares: wall-clock times as HH:MM, instants in a named zone.

Administrators think in a clinic's wall clock, not in UTC and not to the second.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.contrib.admin.widgets import BaseAdminDateWidget, BaseAdminTimeWidget
from django.db import models

HOUR_MINUTE = "%H:%M"


class HourMinuteWidget(BaseAdminTimeWidget):
    """A time input (with the admin's clock picker) that shows 08:00, not 08:00:00."""

    template_name = "admin/widgets/time.html"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        super().__init__(attrs={"size": "5", **(attrs or {})}, format=format or HOUR_MINUTE)


class HourMinuteSplitDateTime(forms.SplitDateTimeWidget):
    """The admin's date-and-time input, its time part as HH:MM."""

    template_name = "admin/widgets/split_datetime.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: list[forms.Widget | type[forms.Widget]] = [
            BaseAdminDateWidget,
            BaseAdminTimeWidget(attrs={"size": "5"}, format=HOUR_MINUTE),
        ]
        # MultiWidget's own __init__, as Django's AdminSplitDateTime does, to choose the parts.
        forms.MultiWidget.__init__(self, widgets, attrs)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["date_label"] = "Date:"
        context["time_label"] = "Time:"
        return context


# For a ModelAdmin or an inline: every time and date-time input without seconds.
HOUR_MINUTE_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.TimeField: {"widget": HourMinuteWidget},
    models.DateTimeField: {"form_class": forms.SplitDateTimeField, "widget": HourMinuteSplitDateTime},
}


def hour_minute(value: dt.time | None) -> str:
    return "-" if value is None else value.strftime(HOUR_MINUTE)


def instant_in_zone(value: dt.datetime | None, zone_name: str) -> str:
    """`value` on the wall clock of `zone_name`, with the zone's abbreviation and UTC offset.

    "2027-03-08 09:00 CST (UTC-06:00)": the abbreviation alone is ambiguous (CST is also China's).
    """
    if value is None:
        return "-"
    local = value.astimezone(zoneinfo.ZoneInfo(zone_name))
    return f"{local:%Y-%m-%d %H:%M} {_zone_label(local)}"


def span_in_zone(start: dt.datetime, end: dt.datetime, zone_name: str) -> str:
    """A visit on one wall clock: "2027-03-08 09:00-09:30 CST (UTC-06:00)"."""
    zone = zoneinfo.ZoneInfo(zone_name)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_end.date() != local_start.date() or local_end.utcoffset() != local_start.utcoffset():
        return f"{instant_in_zone(start, zone_name)} to {instant_in_zone(end, zone_name)}"
    return f"{local_start:%Y-%m-%d %H:%M}-{local_end:%H:%M} {_zone_label(local_start)}"


def _zone_label(local: dt.datetime) -> str:
    offset = local.strftime("%z")
    return f"{local.tzname()} (UTC{offset[:3]}:{offset[3:]})"
