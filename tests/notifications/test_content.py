"""What the texts say, for any names and any time, in each language: two GSM-7 segments at most
with the visit page's link when the names are short, the opt-out line always, and never an
invitation to reply CANCEL (an opt-out word)."""

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
    language=st.sampled_from(["en", "es"]),
)
def test_every_visit_text_fits_two_segments_with_its_link_and_offers_stop_never_cancel(
    practice: str, place: str, zone: str, start: dt.datetime, language: str
) -> None:
    assume("cancel" not in f"{practice} {place}".lower())  # the names are not ours to police
    appointment = Appointment(location=Location(name=place, timezone=zone), start=start)
    link = "https://book.lakesidespine.example.com/v/1njchs-AbCdEfGh_-12"  # a long base, a big id
    with override_settings(PRACTICE_NAME=practice, PRACTICE_PHONE="+13125550100"):
        texts = [
            content.visit_notice(kind=kind, appointment=appointment, link=link, language=language)
            for kind in ("confirmation", "rescheduled", "reminder", "cancelled")
        ]
        texts += [
            content.visit_notice(kind=kind, appointment=appointment, language=language)
            for kind in ("confirmation", "rescheduled", "reminder")
        ]
        texts += [
            content.waitlist_offer(appointment=appointment, language=language),
            content.waitlist_gone(appointment=appointment, language=language),
            content.visit_stranded(appointment=appointment, link=link, language=language),
            content.follow_up_due(language=language),
            content.help_reply(language=language),
            content.language_reply(language=language),
        ]
        answers = [
            content.confirmed_reply(appointment=appointment, language=language),
            content.call_back_reply(language=language),
            content.waitlist_gone_reply(language=language),
        ]
    stop = {"en": "Reply STOP to opt out.", "es": "Responda STOP para darse de baja."}[language]
    for text in texts + answers:
        assert content.gsm7_fold(text) == text, text
        assert content.gsm7_segments(text) <= 2, text
    for text in texts:
        assert text.endswith(stop)
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


def test_the_spanish_confirmation_says_exactly_this_in_two_segments() -> None:
    appointment = Appointment(
        location=Location(name="Clínica Lakeview", timezone="America/Chicago"),
        start=dt.datetime(2027, 3, 10, 15, 30, tzinfo=dt.UTC),
    )
    link = "https://sms.example.org/v/2s-AbCdEfGhIjKl"
    with override_settings(PRACTICE_NAME="Lakeside Spine"):
        text = content.visit_notice(kind="confirmation", appointment=appointment, link=link, language="es")
    assert text == (
        "Lakeside Spine: su cita en Clinica Lakeview es el mié 10 mar, 9:30. Responda SI para confirmar, "
        "o cambie o anule su cita en https://sms.example.org/v/2s-AbCdEfGhIjKl "
        "Responda STOP para darse de baja."
    )
    assert content.gsm7_segments(text) == 2


def test_an_accent_outside_gsm7_is_folded_so_the_text_is_not_sent_as_ucs2() -> None:
    assert content.gsm7_fold("Clínica Óptima, Añil, Müller, €5") == "Clinica Optima, Añil, Müller, €5"
    assert content.gsm7_fold("漢") == "?"


def test_a_long_text_counts_153_septets_a_segment_and_extension_characters_twice() -> None:
    assert content.gsm7_segments("a" * 160) == 1
    assert content.gsm7_segments("a" * 161) == 2
    assert content.gsm7_segments("a" * 306) == 2
    assert content.gsm7_segments("€" * 80) == 1
    assert content.gsm7_segments("€" * 81) == 2
