"""Query-string filters every app's lists share."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField

from practice.fields import MAX_YEAR, MIN_YEAR, unspace_offset


class AwareDateTimeFormField(IsoDateTimeField):
    """As the API's AwareDateTimeField: an instant with its UTC offset. django-filter would read a
    naive time as UTC, which in Chicago is six hours off, so it is refused instead."""

    default_error_messages = {
        "naive": "Give an ISO 8601 instant with its UTC offset (say 2027-03-01T09:00:00-06:00).",
        "out_of_range": f"Use a year from {MIN_YEAR} to {MAX_YEAR}.",
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, str):
            value = unspace_offset(value)
            try:
                parsed = parse_datetime(value)
            except ValueError:  # impossible (Feb 30): the parent says "invalid"
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise ValidationError(self.error_messages["naive"], code="naive")
        instant: dt.datetime | None = super().to_python(value)
        if instant is not None and not MIN_YEAR <= instant.year <= MAX_YEAR:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return instant


class AwareDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareDateTimeFormField
