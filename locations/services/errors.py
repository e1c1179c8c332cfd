"""What locations' writes refuse, each with its code (tests import the codes)."""

from __future__ import annotations

from practice.errors import Conflict, InvalidInput


class InvalidTimezone(InvalidInput):
    code = "invalid_timezone"
    default_message = "Not an IANA time zone."


class InvalidInterval(InvalidInput):
    code = "invalid_interval"
    default_message = "An interval must end after it starts."


class HoursOverlap(InvalidInput):
    code = "hours_overlap"
    default_message = "Two opening intervals of one day overlap."


class BlockOverlap(InvalidInput):
    code = "block_overlap"
    default_message = "The surgeon already works at that time."


class HasFutureAppointments(Conflict):
    code = "has_future_appointments"
    default_message = "It has booked appointments still to come; deactivate it instead."


def raise_field_errors(errors: dict[str, str], error_class: type[InvalidInput] = InvalidInterval) -> None:
    if errors:
        raise error_class(next(iter(errors.values())), fields={key: [value] for key, value in errors.items()})
