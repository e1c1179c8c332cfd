"""Slot search: every free slot in a range, and the earliest slots for a tier."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from django.utils import timezone
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.availability import REFUSAL_CODES, slots_data, zone
from booking.selectors import (
    SlotsInWindow,
    refusal_message,
    slot_key,
    slot_refusal,
    slots_earliest,
    slots_free,
    slots_in_window,
    slots_next,
    slots_page,
)
from booking.selectors.slots import SlotKey
from booking.serializers import SlotSerializer
from locations.models import Location, Surgeon
from practice.fields import MAX_YEAR, MIN_YEAR, AwareDateTimeField, CodeRelatedField, unspace_offset
from practice.models import AppointmentType, UrgencyTier
from practice.permissions import IsScheduler
from practice.selectors import UnknownCode, appointment_type_and_tier

MAX_RANGE_DAYS = 62
MAX_EARLIEST_LIMIT = 50
# A row id past bigint's range would be a database error (a 500), not a 400.
MAX_ID = 2**63 - 1
MAX_PAGE_SIZE = 1000

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURSOR = re.compile(r"^(\d{1,17})\.(\d{1,19})\.(\d{1,19})$")


@extend_schema_field(OpenApiTypes.STR)
class DateOrInstantField(serializers.Field):
    """A date (YYYY-MM-DD: a whole local day at each location) or an ISO 8601 instant with an
    offset. A time without an offset is refused: which zone it meant is a guess."""

    default_error_messages = {
        "invalid": "Use a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset.",
        "out_of_range": "Use a year from 1970 to 2999.",
    }

    def to_internal_value(self, data: Any) -> dt.date | dt.datetime:
        text = unspace_offset(str(data))
        if not _DATE_ONLY.match(text):
            # An instant: the one field every API shares refuses naive, impossible and far times.
            return AwareDateTimeField().to_internal_value(text)
        # parse_datetime would read a bare date as midnight: dates are whole local days.
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is None:
            self.fail("invalid")
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            self.fail("out_of_range")
        return day

    def to_representation(self, value: Any) -> str:
        return value.isoformat()


class SlotFilterSerializer(serializers.Serializer):
    """What both slot searches share: the type, and optionally one surgeon or one location.

    Plain fields, not related fields: the type and the tier are read together in one query
    (`appointment_type_and_tier`), and a surgeon or location is looked up only when the search
    finds nothing (was it unknown, or just busy?), so a search costs no round trip of its own."""

    appointment_type = serializers.CharField(help_text="Appointment type code.")
    surgeon = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Only this surgeon."
    )
    location = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Only this location."
    )


def search_terms(data: dict[str, Any]) -> tuple[AppointmentType, UrgencyTier | None]:
    """The validated parameters' type and tier, or a 400 naming the parameter that names neither."""
    try:
        return appointment_type_and_tier(type_code=data["appointment_type"], tier_code=data.get("tier"))
    except UnknownCode as unknown:
        raise serializers.ValidationError({unknown.field: [str(unknown)]}) from None


def unknown_filters_refuse(data: dict[str, Any]) -> None:
    """A 400 naming `surgeon` or `location` if it names no such row. Called only when a search
    found nothing: a found slot proves both exist."""
    for field, model in (("surgeon", Surgeon), ("location", Location)):
        if field in data and not model.objects.filter(pk=data[field]).exists():
            raise serializers.ValidationError(
                {field: [f'Invalid pk "{data[field]}" - object does not exist.']}
            )


class RangeSerializer(serializers.Serializer):
    """start..end: both dates (inclusive, each location's local days) or both instants (end
    exclusive); at most 62 days."""

    start = DateOrInstantField(help_text="Date (YYYY-MM-DD) or ISO 8601 instant with offset.")
    end = DateOrInstantField(help_text="Date (inclusive) or ISO 8601 instant with offset (exclusive).")

    max_days = MAX_RANGE_DAYS

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["start"], attrs["end"]
        if isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
            raise serializers.ValidationError(
                {"end": "Give start and end both as dates or both as date-times."}
            )
        if start > end:
            raise serializers.ValidationError({"end": "end must not be before start."})
        days = (end - start).days + (0 if isinstance(start, dt.datetime) else 1)
        if (end - start) > dt.timedelta(days=self.max_days) or days > self.max_days:
            raise serializers.ValidationError({"end": f"The range may span at most {self.max_days} days."})
        return attrs


def instants(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A range as UTC instants. Dates are padded to cover that local day in every zone (UTC-12
    to UTC+14); callers keep only each location's own dates."""
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        return start, end
    first = dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(hours=14)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC) + dt.timedelta(hours=12)
    return first, last


@extend_schema_field(OpenApiTypes.STR)
class SlotCursorField(serializers.Field):
    """Where a page of slots ends, as the `Link` header's next URL carries it: the last slot's
    start (microseconds since 1970), surgeon and location."""

    default_error_messages = {"invalid": "Use the after value of a Link header's next URL."}

    def to_internal_value(self, data: Any) -> SlotKey:
        match = _CURSOR.match(str(data))
        if match is None:
            self.fail("invalid")
        micros, surgeon, location = (int(part) for part in match.groups())
        start = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)
        if not (MIN_YEAR <= start.year <= MAX_YEAR and surgeon <= MAX_ID and location <= MAX_ID):
            self.fail("invalid")
        return (start, surgeon, location)

    def to_representation(self, value: Any) -> str:
        return slot_cursor(value)


def slot_cursor(key: SlotKey) -> str:
    start, surgeon, location = key
    micros = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return f"{micros}.{surgeon}.{location}"


class SlotSearchSerializer(SlotFilterSerializer, RangeSerializer):
    tier = serializers.CharField(
        required=False, help_text="Urgency tier code; without one, the request has the lowest rank."
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        required=False,
        help_text=(
            f"At most this many slots (1-{MAX_PAGE_SIZE}), the first ones; when the page is full, "
            'a `Link: <...>; rel="next"` header gives the URL of the next page. Without it, '
            "every slot in the range (one answer; a large practice's may run to megabytes)."
        ),
    )
    after = SlotCursorField(
        required=False,
        help_text="Only slots after this one: set by the next-page URL, not by hand.",
    )


class SlotListApi(APIView):
    """Free slots ordered by start. Slots held for a more urgent tier are left out until their
    release; each slot names the tier it is still held for, if any."""

    permission_classes = [IsScheduler]

    @extend_schema(
        parameters=[
            SlotSearchSerializer,
            OpenApiParameter(
                "Link",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description='With `limit`, when the page is full: `<next page URL>; rel="next"`.',
            ),
        ],
        responses={200: SlotSerializer(many=True)},
        tags=["slots"],
    )
    def get(self, request: Request) -> Response:
        params = SlotSearchSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        appointment_type, tier = search_terms(data)
        start, end = instants(data["start"], data["end"])
        search: dict[str, Any] = {
            "appointment_type": appointment_type,
            "tier": tier,
            "start": start,
            "end": end,
            "surgeon_ids": [data["surgeon"]] if "surgeon" in data else None,
            "location_ids": [data["location"]] if "location" in data else None,
            "location_dates": None
            if isinstance(data["start"], dt.datetime)
            else (data["start"], data["end"]),
        }
        if "limit" not in data:
            slots = slots_free(**search)
        else:
            slots = slots_page(**search, limit=data["limit"], after=data.get("after"))
        if not slots and "after" not in data:
            unknown_filters_refuse(data)
        headers = {}
        if "limit" in data and len(slots) == data["limit"]:
            following = request.query_params.copy()
            following["after"] = slot_cursor(slot_key(slots[-1]))
            headers["Link"] = f'<{request.build_absolute_uri("?" + following.urlencode())}>; rel="next"'
        return Response(slots_data(slots), headers=headers)


class SlotEarliestSerializer(SlotFilterSerializer):
    tier = serializers.CharField(help_text="Urgency tier code.")
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_EARLIEST_LIMIT, default=5, help_text="How many slots (default 5)."
    )


class SlotEarliestApi(APIView):
    """The earliest slots for a tier across every matching surgeon and location, each marked
    inside or outside the tier's window. With none inside the window, `within_window` is false
    and the earliest slots after it are still listed."""

    permission_classes = [IsScheduler]

    class OutputSerializer(serializers.Serializer):
        tier = serializers.CharField()
        window_ends = serializers.DateTimeField(
            help_text="When the tier's window closes (the end of its last local day) at the searched "
            "location, else at the earliest slot's; each slot is judged by its own location's."
        )
        within_window = serializers.BooleanField(help_text="Whether any slot lies inside the window.")
        message = serializers.CharField()
        slots = inline_serializer(
            "EarliestSlot",
            {
                "surgeon": serializers.IntegerField(),
                "location": serializers.IntegerField(),
                "start": serializers.DateTimeField(),
                "end": serializers.DateTimeField(),
                "reserved_for_tier": serializers.CharField(allow_null=True),
                "within_window": serializers.BooleanField(),
            },
            many=True,
        )

    @extend_schema(parameters=[SlotEarliestSerializer], responses={200: OutputSerializer}, tags=["slots"])
    def get(self, request: Request) -> Response:
        params = SlotEarliestSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        appointment_type, maybe_tier = search_terms(data)
        tier = cast(UrgencyTier, maybe_tier)  # the parameter is required
        location = None
        if "location" in data:
            location = Location.objects.filter(pk=data["location"]).first()
            if location is None:
                unknown_filters_refuse(data)
        now = timezone.now()
        slots = slots_earliest(
            appointment_type=appointment_type,
            tier=tier,
            surgeon_ids=[data["surgeon"]] if "surgeon" in data else None,
            location_ids=[data["location"]] if "location" in data else None,
            limit=data["limit"],
            now=now,
        )
        if not slots:
            unknown_filters_refuse(data)
        judged = slots_in_window(tier=tier, slots=slots, location=location, now=now)
        return Response(earliest_answer(tier=tier, judged=judged))


def earliest_answer(*, tier: UrgencyTier, judged: SlotsInWindow) -> dict[str, Any]:
    rendered = [
        {**data, "within_window": within}
        for data, within in zip(slots_data(judged.slots), judged.within, strict=True)
    ]
    within = any(judged.within)
    if within:
        message = f"Slots inside the {tier.code} window."
    elif judged.slots:
        message = f"No slot inside the {tier.code} window; the earliest after it are listed."
    else:
        message = "No slot found in the next year."
    return {
        "tier": tier.code,
        "window_ends": judged.window_ends.isoformat(),
        "within_window": within,
        "message": message,
        "slots": rendered,
    }


# How many alternatives a refused check offers (as a refused booking does).
CHECK_NEXT_SLOTS = 5


class SlotCheckSerializer(serializers.Serializer):
    """The slot part of a booking: who, where, what, which tier and when."""

    surgeon = serializers.PrimaryKeyRelatedField(queryset=Surgeon.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    appointment_type = CodeRelatedField(
        slug_field="code", queryset=AppointmentType.objects.all(), help_text="Appointment type code."
    )
    tier = CodeRelatedField(slug_field="code", queryset=UrgencyTier.objects.all(), help_text="Tier code.")
    start = AwareDateTimeField(help_text="ISO 8601 with offset.")


class SlotCheckApi(APIView):
    """Whether a booking with these parameters would find its slot free, and if not why (the same
    code a refused booking carries) with the next free slots. Slot search offers a start exactly
    when this says it is bookable. The patient's own visits are not checked here."""

    permission_classes = [IsScheduler]

    class OutputSerializer(serializers.Serializer):
        bookable = serializers.BooleanField()
        code = serializers.ChoiceField(
            choices=list(REFUSAL_CODES), allow_null=True, help_text="Why not; null when bookable."
        )
        message = serializers.CharField()
        reserved_for_tier = serializers.CharField(
            required=False, help_text="With reserved_for_tier: the tier the time is held for."
        )
        release_at = serializers.DateTimeField(
            required=False, help_text="With reserved_for_tier: when the hold ends (location's offset)."
        )
        next_slots = SlotSerializer(many=True, help_text="When refused: the next free slots.")

    @extend_schema(parameters=[SlotCheckSerializer], responses={200: OutputSerializer}, tags=["slots"])
    def get(self, request: Request) -> Response:
        params = SlotCheckSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        location: Location = data["location"]
        now = timezone.now()
        refusal = slot_refusal(
            appointment_type=data["appointment_type"],
            tier=data["tier"],
            surgeon_id=data["surgeon"].id,
            location_id=location.id,
            start=data["start"],
            now=now,
        )
        if refusal is None:
            return Response(
                {"bookable": True, "code": None, "message": "The slot is free.", "next_slots": []}
            )
        answer: dict[str, Any] = {
            "bookable": False,
            "code": refusal.code,
            "message": refusal_message(
                refusal, appointment_type=data["appointment_type"], timezone=location.timezone
            ),
        }
        if refusal.release_at is not None:
            answer["reserved_for_tier"] = refusal.reserved_tier_code
            answer["release_at"] = refusal.release_at.astimezone(zone(location.timezone)).isoformat()
        answer["next_slots"] = slots_data(
            slots_next(
                appointment_type=data["appointment_type"],
                tier=data["tier"],
                surgeon_id=data["surgeon"].id,
                location_id=location.id,
                after=max(data["start"], now),
                limit=CHECK_NEXT_SLOTS,
                now=now,
            )
        )
        return Response(answer)
