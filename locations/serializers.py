"""Serializers for locations, surgeons and their templates; field names are the API's contract."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from locations.visits import CONFLICT_REASONS, VisitConflict
from practice.fields import AwareDateTimeField, CodeRelatedField
from practice.models import UrgencyTier

WALL_CLOCK = "%H:%M"


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "08:00",
        "description": "Local wall-clock time at the location, HH:MM (seconds allowed on input).",
    }
)
class WallClockField(serializers.TimeField):
    """A local wall-clock time, answered as HH:MM. It has no offset: the location's zone applies,
    so "08:00+05:00" is refused rather than silently read as 08:00."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=WALL_CLOCK, **kwargs)

    def to_internal_value(self, value: Any) -> Any:
        # Django's parser drops an offset without a word; a wall-clock time has none to drop.
        if isinstance(value, str) and any(mark in value for mark in "+-Zz"):
            raise serializers.ValidationError(
                "Give a local time without an offset; the location's zone applies."
            )
        return super().to_internal_value(value)


class LocationSerializer(serializers.ModelSerializer):
    phone = PhoneNumberField(required=False, allow_blank=True)

    class Meta:
        model = Location
        fields = ["id", "name", "address", "phone", "timezone", "is_active"]
        # The service checks the zone, so the error carries its own code.
        extra_kwargs: dict[str, dict[str, Any]] = {"timezone": {"validators": []}}


class HoursIntervalSerializer(serializers.ModelSerializer):
    opens = WallClockField()
    closes = WallClockField()

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]


class ClosureSerializer(serializers.ModelSerializer):
    start_time = WallClockField(required=False, allow_null=True)
    end_time = WallClockField(required=False, allow_null=True)

    class Meta:
        model = Closure
        fields = ["id", "location", "start_date", "end_date", "start_time", "end_time", "reason"]
        read_only_fields = ["location"]


class SurgeonSerializer(serializers.ModelSerializer):
    specialties = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    display_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Defaults to “Dr. First Last”."
    )

    class Meta:
        model = Surgeon
        fields = ["id", "first_name", "last_name", "display_name", "specialties", "is_active"]


class BlockSerializer(serializers.ModelSerializer):
    start = WallClockField()
    end = WallClockField()
    reserved_for_tier = CodeRelatedField(
        slug_field="code",
        queryset=UrgencyTier.objects.all(),
        required=False,
        allow_null=True,
        help_text="An urgency tier's code; until release_hours_before the start, only that tier may book.",
    )

    class Meta:
        model = Block
        fields = [
            "id",
            "surgeon",
            "location",
            "weekday",
            "start",
            "end",
            "valid_from",
            "valid_until",
            "reserved_for_tier",
            "release_hours_before",
        ]
        read_only_fields = ["surgeon"]


class TimeOffSerializer(serializers.ModelSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()

    class Meta:
        model = TimeOff
        fields = ["id", "surgeon", "start", "end", "reason"]
        read_only_fields = ["surgeon"]


# --- Write answers: the object, plus the booked visits the change left outside availability ----


# Renders any `locations.visits.VisitConflict` (an object with `.appointment` and `.reason`): the
# visits are booking's, the shape is the one every write here answers with. (Not in the docstring,
# which the API schema publishes.)
class AppointmentConflictSerializer(serializers.Serializer):
    """A future visit that no longer fits its surgeon's availability, and why."""

    id = serializers.IntegerField(source="appointment.id")
    patient = serializers.IntegerField(source="appointment.patient_id")
    surgeon = serializers.IntegerField(source="appointment.surgeon_id")
    location = serializers.IntegerField(source="appointment.location_id")
    start = serializers.DateTimeField(source="appointment.start")
    start_local = serializers.SerializerMethodField(
        help_text="The start on the location's clock, with its offset (ISO 8601)."
    )
    end = serializers.DateTimeField(source="appointment.end")
    status = serializers.CharField(
        source="appointment.status", help_text="booked, confirmed, checked_in or completed (active statuses)."
    )
    reason = serializers.ChoiceField(
        choices=CONFLICT_REASONS,
        help_text="inactive, closure, time_off, outside_hours or outside_blocks (the first that applies).",
    )

    def get_start_local(self, conflict: VisitConflict) -> str:
        visit = conflict.appointment
        return visit.start.astimezone(ZoneInfo(visit.location.timezone)).isoformat()


_CONFLICTS_HELP = (
    "Booked future visits that now fall outside availability (nothing is cancelled): "
    "schedulers move them; GET /api/v1/conflicts/ lists them all."
)


class HoursReplaceOutputSerializer(serializers.Serializer):
    hours = HoursIntervalSerializer(many=True)
    conflicts = AppointmentConflictSerializer(many=True, help_text=_CONFLICTS_HELP)


class PatientNoticeSerializer(serializers.Serializer):
    """What a stranded visit's patient is told (answered by the app that texts patients)."""

    appointment = serializers.IntegerField()
    patient = serializers.IntegerField()
    start = serializers.DateTimeField()
    local_start = serializers.CharField(help_text="The start on the location's wall clock, ISO 8601.")
    channel = serializers.ChoiceField(
        choices=["sms", "worklist"], help_text="sms: texted; worklist: a scheduler calls (no consent)."
    )
    text = serializers.CharField(
        allow_null=True, help_text="The text (in a dry run its link is masked, at its true length)."
    )
    segments = serializers.IntegerField(help_text="GSM-7 segments of the text.")
    why_not_texted = serializers.CharField(
        help_text="no_consent, opted_out, or no_times (nothing free to offer in the next two weeks, or the "
        "clinic deactivated: the worklist asks for a call); empty when texted."
    )


_NOTICES_HELP = (
    "Only with ?notify_patients=true: one per visit this change strands, and what its patient is told."
)


class LocationWithConflictsSerializer(LocationSerializer):
    conflicts = AppointmentConflictSerializer(
        many=True,
        read_only=True,
        help_text=_CONFLICTS_HELP + " A new zone moves every local time; deactivating makes all inactive.",
    )
    notices = PatientNoticeSerializer(many=True, read_only=True, required=False, help_text=_NOTICES_HELP)

    class Meta(LocationSerializer.Meta):
        fields = [*LocationSerializer.Meta.fields, "conflicts", "notices"]


class SurgeonWithConflictsSerializer(SurgeonSerializer):
    conflicts = AppointmentConflictSerializer(
        many=True,
        read_only=True,
        help_text="Booked future visits of the surgeon now outside availability (deactivating makes "
        "them all inactive); nothing is cancelled. GET /api/v1/conflicts/ lists them all.",
    )
    notices = PatientNoticeSerializer(many=True, read_only=True, required=False, help_text=_NOTICES_HELP)

    class Meta(SurgeonSerializer.Meta):
        fields = [*SurgeonSerializer.Meta.fields, "conflicts", "notices"]


class ClosureWithConflictsSerializer(ClosureSerializer):
    conflicts = AppointmentConflictSerializer(many=True, read_only=True, help_text=_CONFLICTS_HELP)

    class Meta(ClosureSerializer.Meta):
        fields = [*ClosureSerializer.Meta.fields, "conflicts"]


class ClosureCreateSerializer(ClosureSerializer):
    notify_patients = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text="Text each patient whose visit the closure strands (one text with a link to pick a new "
        "time); those without consent to texts go to the worklist, as do those who have not moved "
        "their visit a day later.",
    )
    dry_run = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text="Answer the stranded visits and the texts they would get; save and send nothing "
        "(also as the query parameter ?dry_run=true).",
    )

    class Meta(ClosureSerializer.Meta):
        fields = [*ClosureSerializer.Meta.fields, "notify_patients", "dry_run"]


class ClosureWithNoticesSerializer(ClosureWithConflictsSerializer):
    notices = PatientNoticeSerializer(
        many=True,
        read_only=True,
        help_text="With notify_patients or dry_run: one per visit this closure strands.",
    )
    dry_run = serializers.BooleanField(
        read_only=True, help_text="True: nothing was saved or sent (id is null)."
    )

    class Meta(ClosureWithConflictsSerializer.Meta):
        fields = [*ClosureWithConflictsSerializer.Meta.fields, "notices", "dry_run"]


class BlockWithConflictsSerializer(BlockSerializer):
    conflicts = AppointmentConflictSerializer(many=True, read_only=True, help_text=_CONFLICTS_HELP)
    warnings = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Hours of the block that can never be booked: outside the location's opening hours, "
        "or the whole block on a weekday it is closed. The block is saved all the same.",
    )

    class Meta(BlockSerializer.Meta):
        fields = [*BlockSerializer.Meta.fields, "conflicts", "warnings"]


class TimeOffWithConflictsSerializer(TimeOffSerializer):
    conflicts = AppointmentConflictSerializer(many=True, read_only=True, help_text=_CONFLICTS_HELP)

    class Meta(TimeOffSerializer.Meta):
        fields = [*TimeOffSerializer.Meta.fields, "conflicts"]


class ConflictsSerializer(serializers.Serializer):
    conflicts = AppointmentConflictSerializer(many=True, help_text=_CONFLICTS_HELP)
