"""Administrators manage locations (hours and closures inline) and surgeons (blocks and time off inline).

Every form runs the same validators as the API (`locations.services`), so a bad week or an
overlapping block is an error on the form, never a 500 from a database constraint.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff, validate_timezone
from locations.services.blocks import (
    BlockTimes,
    block_errors,
    block_overlap_message,
    block_overlapping,
    block_times,
)
from locations.services.closures import closure_errors
from locations.services.hours import Interval, hours_errors
from locations.services.surgeons import specialties_validate
from practice.admin_widgets import HOUR_MINUTE_OVERRIDES, hour_minute, instant_in_zone
from practice.errors import InvalidInput

# Most of the practice's clinics are in these: offered first, then every IANA zone.
US_TIMEZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
]


def timezone_choices() -> list[tuple[str, Any]]:
    every = sorted(zoneinfo.available_timezones() - {"localtime"})
    return [
        ("", "---------"),
        ("United States", [(name, name) for name in US_TIMEZONES]),
        ("All time zones", [(name, name) for name in every]),
    ]


class TimezoneField(forms.ChoiceField):
    """A list of IANA zones; a name not on it is refused with the model's own message."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=timezone_choices, **kwargs)

    def validate(self, value: Any) -> None:
        forms.Field.validate(self, value)
        if value:
            validate_timezone(value)


class SpecialtiesField(forms.CharField):
    """The surgeon's specialties as one line, "spine, hand surgery": stored as a list of strings."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override] # a list, not a str
        if isinstance(value, list):
            return specialties_validate(value)
        text = super().to_python(value) or ""
        return [item.strip() for item in text.split(",") if item.strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial or []) != self.to_python(data)


def _home_zone() -> str:
    return settings.SMS_DEFAULT_TIMEZONE


class HomeZoneMixin:
    """Time off belongs to no location: it is shown and entered on the practice's home clock
    (SMS_DEFAULT_TIMEZONE, as practice.clock does for every date tied to no location)."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(_home_zone()):
            response = super().changeform_view(request, *args, **kwargs)  # type: ignore[misc] # a ModelAdmin's
            return _rendered(response)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(_home_zone()):
            response = super().changelist_view(request, *args, **kwargs)  # type: ignore[misc] # a ModelAdmin's
            return _rendered(response)


def _rendered(response: HttpResponse) -> HttpResponse:
    # A TemplateResponse renders after the view returns, outside the zone: render it inside.
    if isinstance(response, TemplateResponse) and not response.is_rendered:
        response.render()
    return response


def _live_forms(formset: forms.BaseInlineFormSet) -> list[forms.ModelForm]:
    """Forms that will be saved: filled in, valid so far, and not marked for deletion."""
    return [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE") and not form.errors
    ]


class OpeningHoursForm(forms.ModelForm):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(data.get(field) is not None for field in ("weekday", "opens", "closes")):
            for _, field, message in hours_errors([Interval(data["weekday"], data["opens"], data["closes"])]):
                self.add_error(field, message)
        return data


class OpeningHoursFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        live = _live_forms(self)
        intervals = [
            Interval(form.cleaned_data["weekday"], form.cleaned_data["opens"], form.cleaned_data["closes"])
            for form in live
        ]
        for index, field, message in hours_errors(intervals):
            live[index].add_error(field, message)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formfield_overrides = HOUR_MINUTE_OVERRIDES
    form = OpeningHoursForm
    formset = OpeningHoursFormSet
    extra = 0


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["start_date", "end_date", "start_time", "end_time", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start_date") and data.get("end_date"):
            errors = closure_errors(
                start_date=data["start_date"],
                end_date=data["end_date"],
                start_time=data.get("start_time"),
                end_time=data.get("end_time"),
            )
            for field, message in errors.items():
                self.add_error(field, message)
        return data


class ClosureInline(admin.TabularInline):
    model = Closure
    formfield_overrides = HOUR_MINUTE_OVERRIDES
    form = ClosureForm
    extra = 0


def _block_form_times(data: dict[str, Any]) -> BlockTimes | None:
    needed = ("weekday", "start", "end", "valid_from")
    if any(data.get(field) is None for field in needed):
        return None
    return BlockTimes(
        data["weekday"], data["start"], data["end"], data["valid_from"], data.get("valid_until")
    )


def _block_form_errors(form: forms.ModelForm, data: dict[str, Any]) -> BlockTimes | None:
    """The API's rules for one block, as errors on the form; the block's times if they hold."""
    times = _block_form_times(data)
    if times is None:
        return None
    errors = block_errors(times)
    location = data.get("location")
    if location is not None and not location.is_active and "location" in form.changed_data:
        errors["location"] = "This location is inactive."
    for field, message in errors.items():
        form.add_error(field, message)
    return None if errors else times


class BlockInlineForm(forms.ModelForm):
    class Meta:
        model = Block
        fields = [
            "location",
            "weekday",
            "start",
            "end",
            "valid_from",
            "valid_until",
            "reserved_for_tier",
            "release_hours_before",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _block_form_errors(self, data)
        return data


class BlockFormSet(forms.BaseInlineFormSet):
    """A surgeon's whole template is on the page, so overlaps are checked among its forms."""

    def clean(self) -> None:
        super().clean()
        seen: list[tuple[BlockTimes, dict[str, Any]]] = []
        if self.instance.pk is not None:
            # The admin's change view runs in a transaction: hold the surgeon's row as the API
            # does, and count blocks saved elsewhere since this page was opened.
            Surgeon.objects.select_for_update().get(pk=self.instance.pk)
            on_page = [form.instance.pk for form in self.forms if form.instance.pk is not None]
            for other in Block.objects.filter(surgeon=self.instance).exclude(pk__in=on_page):
                seen.append(
                    (block_times(other), {"location": other.location, "start": other.start, "end": other.end})
                )
        for form in _live_forms(self):
            times = _block_form_times(form.cleaned_data)
            if times is None:
                continue
            clash = next((other for other_times, other in seen if other_times.overlaps(times)), None)
            if clash is not None:
                message = (
                    f"Overlaps the block {clash['start']:%H:%M}-{clash['end']:%H:%M}"
                    f" at {clash['location']} on the same weekday in overlapping dates."
                )
                form.add_error("start", message)
            else:
                seen.append((times, form.cleaned_data))


class BlockInline(admin.TabularInline):
    """Compact, to fit the page at 1280 px: short inputs, the release hours' help as a tooltip."""

    model = Block
    form = BlockInlineForm
    formset = BlockFormSet
    extra = 0
    autocomplete_fields = ["location"]
    formfield_overrides = HOUR_MINUTE_OVERRIDES
    verbose_name = "weekly block"

    # Short labels and inputs; no add/change/view icons under the selects (the sidebar links do that).
    LABELS = {"reserved_for_tier": "Reserved for", "release_hours_before": "Release (h)"}
    WIDTHS = {
        "location": "11em",
        "weekday": "8.5em",
        "reserved_for_tier": "7em",
        "release_hours_before": "3.5em",
    }

    class Media:
        css = {"all": ["locations/admin-blocks.css"]}

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is None:
            return None
        field.label = self.LABELS.get(db_field.name, field.label)
        widget = field.widget
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
            widget = widget.widget
        if (width := self.WIDTHS.get(db_field.name)) is not None:
            widget.attrs["style"] = f"width: {width}"
            widget.attrs["data-width"] = width
        return field


class BlockForm(BlockInlineForm):
    """A block on its own page: checked against the surgeon's stored blocks, as the API does."""

    class Meta(BlockInlineForm.Meta):
        fields = ["surgeon", *BlockInlineForm.Meta.fields]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        times = _block_form_times(data)
        surgeon = data.get("surgeon")
        if times is not None and surgeon is not None and not self.errors:
            # Runs inside the admin's transaction: hold the surgeon's row as the API does.
            Surgeon.objects.select_for_update().get(pk=surgeon.pk)
            other = block_overlapping(surgeon_id=surgeon.pk, times=times, exclude_id=self.instance.pk)
            if other is not None:
                self.add_error("start", block_overlap_message(other))
        return data


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ["start", "end", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("start", "end"):
            self.fields[name].help_text = f"On the practice's clock ({_home_zone()})."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "Time off must end after it starts.")
        return data


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    formfield_overrides = HOUR_MINUTE_OVERRIDES
    form = TimeOffForm
    extra = 0


class LocationForm(forms.ModelForm):
    timezone = TimezoneField(help_text="The clinic's wall clock: hours and blocks are in this zone.")

    class Meta:
        model = Location
        fields = ["name", "address", "phone", "timezone", "is_active"]


@admin.register(Location)
class LocationAdmin(SimpleHistoryAdmin):
    form = LocationForm
    inlines = [OpeningHoursInline, ClosureInline]
    list_display = ["name", "timezone", "phone", "is_active"]
    list_filter = ["is_active", "timezone"]
    search_fields = ["name", "address"]


class SurgeonForm(forms.ModelForm):
    specialties = SpecialtiesField(
        required=False, help_text="Separated by commas, e.g. cervical spine, scoliosis. Internal."
    )

    class Meta:
        model = Surgeon
        fields = ["first_name", "last_name", "display_name", "specialties", "is_active"]

    def clean_specialties(self) -> Any:
        try:
            return specialties_validate(self.cleaned_data["specialties"])
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from error


@admin.register(Surgeon)
class SurgeonAdmin(HomeZoneMixin, SimpleHistoryAdmin):
    form = SurgeonForm
    inlines = [BlockInline, TimeOffInline]
    list_display = ["display_name", "first_name", "last_name", "is_active"]
    list_filter = ["is_active", "blocks__location"]
    search_fields = ["first_name", "last_name", "display_name"]


@admin.register(Block)
class BlockAdmin(SimpleHistoryAdmin):
    form = BlockForm
    formfield_overrides = HOUR_MINUTE_OVERRIDES
    list_display = [
        "surgeon",
        "location",
        "weekday",
        "start_hm",
        "end_hm",
        "valid_from",
        "valid_until",
        "reserved_for_tier",
    ]
    list_filter = ["location", "weekday", "reserved_for_tier", "surgeon__is_active"]
    search_fields = ["surgeon__first_name", "surgeon__last_name", "surgeon__display_name", "location__name"]
    list_select_related = ["surgeon", "location", "reserved_for_tier"]
    autocomplete_fields = ["surgeon", "location"]

    @admin.display(description="start", ordering="start")
    def start_hm(self, obj: Block) -> str:
        return hour_minute(obj.start)

    @admin.display(description="end", ordering="end")
    def end_hm(self, obj: Block) -> str:
        return hour_minute(obj.end)


@admin.register(Closure)
class ClosureAdmin(SimpleHistoryAdmin):
    form = ClosureForm
    formfield_overrides = HOUR_MINUTE_OVERRIDES
    list_display = ["location", "start_date", "end_date", "start_hm", "end_hm", "reason"]
    list_filter = ["location"]
    search_fields = ["reason", "location__name"]
    date_hierarchy = "start_date"

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["fields"] = ["location", *ClosureForm.Meta.fields]
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="start time", ordering="start_time")
    def start_hm(self, obj: Closure) -> str:
        return hour_minute(obj.start_time)

    @admin.display(description="end time", ordering="end_time")
    def end_hm(self, obj: Closure) -> str:
        return hour_minute(obj.end_time)


@admin.register(OpeningHours)
class OpeningHoursAdmin(SimpleHistoryAdmin):
    """Read-only: hours change as a whole week, on the location's page, where overlaps are checked."""

    list_display = ["location", "weekday", "opens_hm", "closes_hm"]
    list_filter = ["location", "weekday"]

    @admin.display(description="opens", ordering="opens")
    def opens_hm(self, obj: OpeningHours) -> str:
        return hour_minute(obj.opens)

    @admin.display(description="closes", ordering="closes")
    def closes_hm(self, obj: OpeningHours) -> str:
        return hour_minute(obj.closes)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(TimeOff)
class TimeOffAdmin(HomeZoneMixin, SimpleHistoryAdmin):
    form = TimeOffForm
    formfield_overrides = HOUR_MINUTE_OVERRIDES
    list_display = ["surgeon", "start_local", "end_local", "reason"]
    list_filter = ["surgeon"]
    search_fields = ["reason", "surgeon__last_name", "surgeon__display_name"]
    date_hierarchy = "start"

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["fields"] = ["surgeon", *TimeOffForm.Meta.fields]
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="start", ordering="start")
    def start_local(self, obj: TimeOff) -> str:
        return instant_in_zone(obj.start, _home_zone())

    @admin.display(description="end", ordering="end")
    def end_local(self, obj: TimeOff) -> str:
        return instant_in_zone(obj.end, _home_zone())
