"""Where and when care can happen: locations, their hours and closures, surgeons and their blocks."""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from practice.models import UrgencyTier

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]

RELEASE_HOURS_MAX = 24 * 365


@functools.cache
def _iana_timezones() -> frozenset[str]:
    # Walking the zone database takes tens of milliseconds; it only changes with a deploy.
    # "localtime" is the server's own zone under another name, not an IANA zone.
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def timezone_error(value: str) -> str | None:
    """Why `value` is not an IANA time zone name, or None when it is one."""
    if value not in _iana_timezones():
        return f"{value!r} is not an IANA time zone (for example America/Chicago)."
    return None


def validate_timezone(value: str) -> None:
    if (message := timezone_error(value)) is not None:
        raise ValidationError(message)


class Location(models.Model):
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    phone = PhoneNumberField(blank=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One open interval on a weekday, in the location's wall-clock time. No interval: closed."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, validators=[MaxValueValidator(6)])
    opens = models.TimeField()
    closes = models.TimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["location", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="opening_hours_close_after_open"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    """Dates a location is shut, whole days or (with times) part of each day."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField()
    end_date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    reason = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["location", "start_date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="closure_end_not_before_start"
            ),
            models.CheckConstraint(
                condition=Q(start_time__isnull=True, end_time__isnull=True)
                | Q(start_time__isnull=False, end_time__isnull=False, end_time__gt=F("start_time")),
                name="closure_times_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location}: {self.reason} ({self.start_date} to {self.end_date})"


class Surgeon(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200, help_text="As patients and schedulers see it.")
    specialties = models.JSONField(default=list, blank=True, help_text="A list of strings; internal.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The model moved here from `practice`; its tables kept their names, so no row had to move.
    history = HistoricalRecords(table_name="practice_historicalsurgeon")

    class Meta:
        db_table = "practice_surgeon"
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.display_name or f"{self.first_name} {self.last_name}"


class Block(models.Model):
    """A surgeon's weekly working block at one location (the working template).

    A block reserved for a tier is offered only to that tier (or a more urgent one) until
    `release_hours_before` hours before its start; after that, to everyone.
    """

    surgeon = models.ForeignKey(Surgeon, on_delete=models.CASCADE, related_name="blocks")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="blocks")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, validators=[MaxValueValidator(6)])
    start = models.TimeField()
    end = models.TimeField()
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True, help_text="Empty: open-ended.")
    reserved_for_tier = models.ForeignKey(
        UrgencyTier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_hours_before = models.PositiveIntegerField(
        default=48,
        # No tier waits longer than a year, so a longer hold means nothing (and overflows date maths).
        validators=[MaxValueValidator(RELEASE_HOURS_MAX)],
        help_text="Hours before the start when a reserved block opens to every tier.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["surgeon", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="block_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="block_weekday_range"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="block_valid_until_not_before_valid_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.surgeon} at {self.location}, {self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class TimeOff(models.Model):
    surgeon = models.ForeignKey(Surgeon, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["surgeon", "start"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.surgeon}: {self.reason}"
