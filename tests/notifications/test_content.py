"""What the texts say, for any names and any time: one segment when the names are short, the
opt-out line always, and never an invitation to reply CANCEL (an opt-out word)."""

from __future__ import annotations

import datetime as dt
import re

from django.test import override_settings
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from booking.models import Appointment
from locations.models import Location
from notifications import content

GSM_LETTERS = st.characters(
    whitelist_categories=(),
    whitelist_characters="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -'&.",
)
ZONES = st.sampled_from(
    ["America/Chicago", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Europe/London"]
)
STARTS = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis takes naive bounds; values are UTC)
    max_value=dt.datetime(2030, 12, 31),  # noqa: DTZ001 (as above)
    timezones=st.just(dt.UTC),
)


@settings(max_examples=60, deadline=None)
@given(
    practice=st.text(GSM_LETTERS, min_size=1, max_size=22),
    place=st.text(GSM_LETTERS, min_size=1, max_size=22),
    zone=ZONES,
    start=STARTS,
)
def test_every_visit_text_fits_one_segment_and_offers_stop_never_cancel(
    practice: str, place: str, zone: str, start: dt.datetime
) -> None:
    assume("cancel" not in f"{practice} {place}".lower())  # the names are not ours to police
    appointment = Appointment(location=Location(name=place, timezone=zone), start=start)
    with override_settings(PRACTICE_NAME=practice, PRACTICE_PHONE="+13125550100"):
        texts = [
            content.visit_notice(kind=kind, appointment=appointment)
            for kind in ("confirmation", "rescheduled", "reminder", "cancelled")
        ]
        texts += [
            content.waitlist_offer(appointment=appointment),
            content.waitlist_gone(appointment=appointment),
        ]
        texts.append(content.follow_up_due())
        answers = [
            content.help_reply(),
            content.confirmed_reply(appointment=appointment),
            content.call_back_reply(),
            content.waitlist_gone_reply(),
        ]
    for text in texts:
        assert len(text) <= 160, text
        assert text.endswith("Reply STOP to opt out.")
        assert "reply cancel" not in text.lower()
        assert text.startswith(practice)
    for text in texts + answers:
        # CANCEL is an opt-out word: no text may offer it as a keyword, in any case.
        assert re.search(r"\bcancel\b", text, re.IGNORECASE) is None, text


def test_the_local_time_is_the_location_wall_clock_across_dst() -> None:
    before = Appointment(
        location=Location(name="X", timezone="America/Chicago"),
        start=dt.datetime(2027, 3, 13, 15, 0, tzinfo=dt.UTC),
    )
    after = Appointment(
        location=Location(name="X", timezone="America/Chicago"),
        start=dt.datetime(2027, 3, 15, 14, 0, tzinfo=dt.UTC),
    )
    assert content.local_when(before) == "Sat Mar 13, 9:00 AM"
    assert content.local_when(after) == "Mon Mar 15, 9:00 AM"
