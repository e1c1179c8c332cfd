"""FHIR search parameters: references, prefixed dates, tokens and paging, each refused with a 400
OperationOutcome naming the parameter when malformed."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.request import Request

from practice.errors import InvalidInput

DEFAULT_COUNT = 50
MAX_COUNT = 500
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def values(params: QueryDict, name: str) -> list[str]:
    """Every value of a parameter, repeated or comma-separated (FHIR's OR), empty ones dropped."""
    return [part.strip() for raw in params.getlist(name) for part in raw.split(",") if part.strip()]


def is_id(text: str) -> bool:
    """Whether `text` can be a row's id: ASCII-or-Unicode decimal digits that int() reads, and
    within a 64-bit integer (SQLite overflows past it; PostgreSQL refuses)."""
    return text.isdecimal() and len(text) <= 18


def reference_id(value: str, *, kind: str, param: str) -> int:
    """The numeric id in `123`, `Kind/123` or an absolute URL ending `/Kind/123`."""
    text = value.rsplit(f"{kind}/", 1)[-1] if f"{kind}/" in value else value
    if not is_id(text):
        raise InvalidInput.for_field(param, f"Expected {kind}/<id> or <id>, got {value!r}.")
    return int(text)


def pair_reference(value: str, *, kind: str, param: str) -> tuple[int, int]:
    """(surgeon, location) from `Kind/<surgeon>-<location>` or `<surgeon>-<location>`."""
    text = value.rsplit(f"{kind}/", 1)[-1]
    surgeon, _, location = text.partition("-")
    if not (is_id(surgeon) and is_id(location)):
        raise InvalidInput.for_field(param, f"Expected {kind}/<surgeon>-<location>, got {value!r}.")
    return int(surgeon), int(location)


def token(value: str) -> str:
    """A token's code: `system|code` or `code`."""
    return value.rpartition("|")[2]


@dataclass(frozen=True)
class DateBound:
    prefix: str
    value: dt.date | dt.datetime

    @property
    def is_date(self) -> bool:
        return not isinstance(self.value, dt.datetime)


def date_bounds(params: QueryDict, name: str) -> list[DateBound]:
    """Each `name=<prefix><date or instant>` value; an instant needs its offset."""
    bounds = []
    for raw in params.getlist(name):
        text = raw.strip().replace(" ", "+")  # a "+" in a query string arrives as a space
        prefix = text[:2] if text[:2] in _PREFIXES else "eq"
        body = text[2:] if text[:2] in _PREFIXES else text
        if prefix not in {"eq", "gt", "lt", "ge", "le"}:
            raise InvalidInput.for_field(
                name, f"The prefix {prefix!r} is not supported; use eq, gt, ge, lt or le."
            )
        value: dt.date | dt.datetime | None
        try:
            value = parse_date(body) if _DATE.match(body) else parse_datetime(body)
        except ValueError:
            value = None
        if value is None:
            raise InvalidInput.for_field(name, f"Expected a date or an instant with an offset, got {raw!r}.")
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise InvalidInput.for_field(name, "Give the instant's UTC offset.")
        bounds.append(DateBound(prefix, value))
    return bounds


def instant_range(
    bounds: list[DateBound], *, param: str, zone: dt.tzinfo = dt.UTC
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[low, high) from prefixed bounds; a date is a whole day on `zone`'s clock (23 or 25 hours
    on a DST change)."""
    low: dt.datetime | None = None
    high: dt.datetime | None = None

    def day_start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone)

    for bound in bounds:
        if bound.is_date:
            first = day_start(bound.value)
            after = day_start(bound.value + dt.timedelta(days=1))
        else:
            first = bound.value  # type: ignore[assignment]
            after = first + dt.timedelta(microseconds=1)
        lows = {"eq": first, "ge": first, "gt": after}
        highs = {"eq": after, "lt": first, "le": after}
        if bound.prefix in lows:
            low = max(low, lows[bound.prefix]) if low else lows[bound.prefix]
        if bound.prefix in highs:
            high = min(high, highs[bound.prefix]) if high else highs[bound.prefix]
    return low, high


def count(params: QueryDict) -> int:
    return count_value(params.get("_count"))


def count_value(raw: str | None) -> int:
    """A page size from `_count` (default 50), capped at 500."""
    raw = str(DEFAULT_COUNT) if raw is None else raw
    if not is_id(raw):
        raise InvalidInput.for_field("_count", f"Expected a whole number, got {raw!r}.")
    return min(int(raw), MAX_COUNT)


def offset(params: QueryDict) -> int:
    return offset_value(params.get("_offset"))


def offset_value(raw: str | None) -> int:
    """Where a page starts, from `_offset` (default 0)."""
    raw = "0" if raw is None else raw
    if not is_id(raw):
        raise InvalidInput.for_field("_offset", f"Expected a whole number, got {raw!r}.")
    return int(raw)


def searchset(
    request: Request, resources: list[dict[str, Any]], *, total: int, page_size: int, start: int
) -> dict[str, Any]:
    """A searchset Bundle of one page, with self, next and previous links and absolute fullUrls."""
    root = request.build_absolute_uri("/fhir/R4/")
    query = [(key, value) for key, listed in request.query_params.lists() for value in listed]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": page_links(request, query, total=total, page_size=page_size, start=start),
        "entry": [
            {
                "fullUrl": f"{root}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


def page_links(
    request: Request, query: list[tuple[str, str]], *, total: int, page_size: int, start: int
) -> list[dict[str, str]]:
    """A page's self, next and previous links: GETs of the request's path with `query` (its
    `_count` and `_offset` replaced)."""
    base = request.build_absolute_uri(request.path)
    kept = [(key, value) for key, value in query if key not in {"_offset", "_count"}]

    def page(at: int) -> str:
        return f"{base}?{urlencode([*kept, ('_count', page_size), ('_offset', at)])}"

    links = [{"relation": "self", "url": page(start)}]
    if start + page_size < total:
        links.append({"relation": "next", "url": page(start + page_size)})
    if start > 0:
        links.append({"relation": "previous", "url": page(max(0, start - page_size))})
    return links
