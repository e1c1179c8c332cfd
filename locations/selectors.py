"""Reads for locations, hours, closures, surgeons, blocks and time off, with the filters their lists take."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet

from locations.models import WEEKDAYS, Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from practice.filters import AwareDateTimeFilter


class LocationFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    timezone = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Location
        fields = ["name", "timezone", "is_active"]


class ClosureFilter(django_filters.FilterSet):
    on_or_after = django_filters.DateFilter(
        field_name="end_date", lookup_expr="gte", label="Closures ending on or after this date."
    )
    on_or_before = django_filters.DateFilter(
        field_name="start_date", lookup_expr="lte", label="Closures starting on or before this date."
    )

    class Meta:
        model = Closure
        fields = ["on_or_after", "on_or_before"]


class SurgeonFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(method="filter_name", label="Part of the first, last or display name.")
    is_active = django_filters.BooleanFilter()
    location = django_filters.NumberFilter(
        field_name="blocks__location", distinct=True, label="Surgeons with a block at this location."
    )

    class Meta:
        model = Surgeon
        fields = ["name", "is_active", "location"]

    def filter_name(self, queryset: QuerySet[Surgeon], name: str, value: str) -> QuerySet[Surgeon]:
        return queryset.filter(
            Q(first_name__icontains=value) | Q(last_name__icontains=value) | Q(display_name__icontains=value)
        )


class BlockFilter(django_filters.FilterSet):
    location = django_filters.NumberFilter(field_name="location_id")
    weekday = django_filters.NumberFilter()
    active_on = django_filters.DateFilter(method="filter_active_on", label="Blocks valid on this date.")
    reserved = django_filters.BooleanFilter(
        field_name="reserved_for_tier", lookup_expr="isnull", exclude=True, label="Reserved for a tier."
    )

    class Meta:
        model = Block
        fields = ["location", "weekday", "active_on", "reserved"]

    def filter_active_on(self, queryset: QuerySet[Block], name: str, value: object) -> QuerySet[Block]:
        return queryset.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=value), valid_from__lte=value)


class TimeOffFilter(django_filters.FilterSet):
    ends_after = AwareDateTimeFilter(field_name="end", lookup_expr="gt")
    starts_before = AwareDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = TimeOff
        fields = ["ends_after", "starts_before"]


def location_list() -> QuerySet[Location]:
    return Location.objects.all()


def location_hours(*, location: Location) -> QuerySet[OpeningHours]:
    return location.hours.order_by("weekday", "opens")


def closure_list(*, location_id: int) -> QuerySet[Closure]:
    return Closure.objects.filter(location_id=location_id).order_by("start_date", "start_time", "id")


def surgeon_list() -> QuerySet[Surgeon]:
    return Surgeon.objects.all()


def block_list(*, surgeon_id: int) -> QuerySet[Block]:
    return (
        Block.objects.filter(surgeon_id=surgeon_id)
        .select_related("reserved_for_tier")
        .order_by("weekday", "start", "id")
    )


def time_off_list(*, surgeon_id: int) -> QuerySet[TimeOff]:
    return TimeOff.objects.filter(surgeon_id=surgeon_id).order_by("start", "id")


def block_warnings(*, block: Block) -> list[str]:
    """The parts of a block no visit can ever be booked in: outside the location's opening hours
    that weekday, or the whole block on a weekday the location is closed. The block is kept (hours
    may change); the scheduler is told."""
    day = dict(WEEKDAYS)[block.weekday]
    hours = sorted(
        (opens, closes)
        for opens, closes in block.location.hours.filter(weekday=block.weekday).values_list("opens", "closes")
    )
    if not hours:
        return [
            f"{block.location} is closed on {day}s: none of this block "
            f"({block.start:%H:%M}-{block.end:%H:%M}) can ever be booked."
        ]
    outside: list[tuple[dt.time, dt.time]] = []
    cursor = block.start
    for opens, closes in hours:
        if closes <= cursor:
            continue
        if opens >= block.end:
            break
        if opens > cursor:
            outside.append((cursor, opens))
        cursor = max(cursor, closes)
        if cursor >= block.end:
            break
    if cursor < block.end:
        outside.append((cursor, block.end))
    open_text = ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in hours)
    return [
        f"{start:%H:%M}-{end:%H:%M} on {day}s is outside {block.location}'s opening hours ({open_text}) "
        "and can never be booked."
        for start, end in outside
    ]
