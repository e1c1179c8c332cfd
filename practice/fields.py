"""Serializer fields every app's API shares."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

# Far enough either way for any practice; the edges of Python's calendar overflow as soon as a
# duration or a zone is applied.
MIN_YEAR, MAX_YEAR = 1970, 2999

# In a query string an unencoded "+" arrives as a space: "…T08:00:00 06:00" meant "+06:00".
_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")


def unspace_offset(text: str) -> str:
    return _SPACED_OFFSET.sub(r"+\1", text.strip())


class AwareDateTimeField(serializers.DateTimeField):
    """An instant: ISO 8601 with a UTC offset. A naive time would be guessed at, so it is refused;
    so is a well-formed but impossible one (Feb 30, hour 25, +99:00) and a year outside 1970-2999."""

    default_error_messages = {
        "naive": "Give an ISO 8601 instant with its UTC offset (say 2027-03-01T09:00:00-06:00).",
        "out_of_range": f"Use a year from {MIN_YEAR} to {MAX_YEAR}.",
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed but impossible: the parent says "invalid"
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        instant: dt.datetime = super().to_internal_value(value)
        if not MIN_YEAR <= instant.year <= MAX_YEAR:
            self.fail("out_of_range")
        return instant


class CodeRelatedField(serializers.SlugRelatedField):
    """A related object named by its code. A NUL byte cannot be a code, and PostgreSQL refuses
    it in a query (a 500), so it is "does not exist" before any lookup."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)
