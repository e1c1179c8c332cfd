"""Demo locations, surgeons, templates and appointment types, loaded through the services.

Idempotent: rows are found by name (or code) first, and a surgeon's template is only written
while they have no blocks.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from locations.models import Location, Surgeon
from locations.services.blocks import block_create
from locations.services.closures import closures_import_holidays
from locations.services.hours import Interval, location_hours_replace
from locations.services.locations import location_create
from locations.services.surgeons import surgeon_create
from practice.models import AppointmentType, UrgencyTier
from practice.services import appointment_type_create

APPOINTMENT_TYPES = [
    # code, name, duration, buffer after, minimum notice in hours
    ("new-consultation", "New consultation", 60, 10, 24),
    ("second-opinion", "Second opinion", 60, 10, 24),
    ("post-op-follow-up", "Post-op follow-up", 20, 5, 2),
    ("imaging-review", "Imaging review", 30, 5, 4),
]

_WEEKDAYS = range(5)
_T = dt.time

LOCATIONS = [
    # name, address, phone, zone, subdivision for holidays, hours per weekday
    (
        "Lakeside Spine Streeterville",
        "680 N Lake Shore Dr, Suite 1100, Chicago, IL 60611",
        "+13125550140",
        "America/Chicago",
        "IL",
        [Interval(day, _T(7, 30), _T(12, 0)) for day in _WEEKDAYS]
        + [Interval(day, _T(13, 0), _T(17, 30)) for day in _WEEKDAYS],
    ),
    (
        "Lakeside Spine Oak Brook",
        "2001 York Rd, Oak Brook, IL 60523",
        "+16305550150",
        "America/Chicago",
        "IL",
        [Interval(day, _T(8, 0), _T(17, 0)) for day in _WEEKDAYS] + [Interval(5, _T(8, 0), _T(12, 0))],
    ),
    (
        "Lakeside Spine Phoenix",
        "2222 E Highland Ave, Phoenix, AZ 85016",
        "+16025550160",
        "America/Phoenix",
        "AZ",
        [Interval(day, _T(7, 0), _T(16, 0)) for day in _WEEKDAYS],
    ),
]

STREETERVILLE, OAK_BROOK, PHOENIX = (row[0] for row in LOCATIONS)

# first, last, specialties, blocks: (location, weekday, start, end, reserved for urgent)
SURGEONS = [
    (
        "Maya",
        "Okafor",
        ["cervical spine", "spinal tumours"],
        [
            (STREETERVILLE, 0, _T(8, 0), _T(12, 0), False),
            (STREETERVILLE, 0, _T(13, 0), _T(17, 0), True),
            (OAK_BROOK, 2, _T(8, 0), _T(16, 0), False),
            (STREETERVILLE, 4, _T(8, 0), _T(12, 0), False),
        ],
    ),
    (
        "Daniel",
        "Reyes",
        ["lumbar spine", "minimally invasive surgery"],
        [
            (OAK_BROOK, 0, _T(8, 0), _T(16, 0), False),
            (STREETERVILLE, 1, _T(8, 0), _T(12, 0), True),
            (STREETERVILLE, 3, _T(13, 0), _T(17, 0), False),
        ],
    ),
    (
        "Priya",
        "Natarajan",
        ["scoliosis", "deformity"],
        [
            (STREETERVILLE, 1, _T(13, 0), _T(17, 0), False),
            (STREETERVILLE, 2, _T(8, 0), _T(12, 0), True),
            (OAK_BROOK, 4, _T(8, 0), _T(16, 0), False),
        ],
    ),
    (
        "Thomas",
        "Becker",
        ["spinal trauma", "revision surgery"],
        [
            (OAK_BROOK, 1, _T(8, 0), _T(16, 0), False),
            (OAK_BROOK, 3, _T(8, 0), _T(12, 0), True),
            (OAK_BROOK, 5, _T(8, 0), _T(12, 0), False),
        ],
    ),
    (
        "Elena",
        "Vasquez",
        ["lumbar spine", "disc replacement"],
        [
            (PHOENIX, 0, _T(7, 0), _T(15, 0), False),
            (PHOENIX, 2, _T(7, 0), _T(11, 0), True),
            (PHOENIX, 3, _T(7, 0), _T(15, 0), False),
        ],
    ),
    (
        "James",
        "Whitfield",
        ["cervical spine", "spinal cord injury"],
        [
            (PHOENIX, 1, _T(7, 0), _T(15, 0), False),
            (PHOENIX, 4, _T(7, 0), _T(11, 0), True),
            (STREETERVILLE, 2, _T(13, 0), _T(17, 0), False),
        ],
    ),
]


def demo_load() -> list[str]:
    """Call inside a transaction (booking.demo.demo_load holds one)."""
    today = timezone.now().date()
    locations: dict[str, Location] = {}
    for name, address, phone, zone, subdiv, hours in LOCATIONS:
        location = Location.objects.filter(name=name).first()
        if location is None:
            location = location_create(name=name, address=address, phone=phone, timezone=zone)
            location_hours_replace(location=location, intervals=hours)
        locations[name] = location
        for year in (today.year, today.year + 1):
            closures_import_holidays(country="US", subdiv=subdiv, year=year, locations=[location])

    for code, name, duration, buffer, notice in APPOINTMENT_TYPES:
        if not AppointmentType.objects.filter(code=code).exists():
            appointment_type_create(
                code=code,
                name=name,
                duration_minutes=duration,
                buffer_minutes=buffer,
                min_notice_hours=notice,
            )

    urgent = UrgencyTier.objects.get(code="urgent")
    valid_from = today.replace(month=1, day=1)
    for first, last, specialties, blocks in SURGEONS:
        surgeon = Surgeon.objects.filter(first_name=first, last_name=last).first()
        if surgeon is None:
            surgeon = surgeon_create(first_name=first, last_name=last, specialties=specialties)
        if surgeon.blocks.exists():
            continue
        for location_name, weekday, start, end, reserved in blocks:
            block_create(
                surgeon=surgeon,
                location=locations[location_name],
                weekday=weekday,
                start=start,
                end=end,
                valid_from=valid_from,
                reserved_for_tier=urgent if reserved else None,
            )
    return [
        f"{len(LOCATIONS)} locations (Chicago and Phoenix), {len(SURGEONS)} surgeons with weekly templates, "
        f"{len(APPOINTMENT_TYPES)} appointment types, US holidays {today.year}-{today.year + 1} as closures"
    ]
