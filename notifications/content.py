"""What the texts say, in the patient's language (`Patient.language`, Django's gettext catalogs in
notifications/locale/). Within two GSM-7 segments with the visit page's link, and never the reason
for the visit, a diagnosis, the procedure or the surgeon's specialty.

Replies are YES (SI) or C to confirm and R to reschedule: never CANCEL, which is an opt-out word.
Every text is folded to the GSM-7 alphabet ("Clínica" is sent as "Clinica"): one character outside
it would make the whole text UCS-2, at 70 characters a segment.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from booking.models import Appointment

DEFAULT_LANGUAGE = "en"

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"  # two septets each
_GSM7 = frozenset(GSM7_BASIC + GSM7_EXTENSION)


def gsm7_fold(text: str) -> str:
    """The text in the GSM-7 alphabet: accents it lacks dropped (í → i), anything else as "?"."""
    if all(char in _GSM7 for char in text):
        return text
    folded = []
    for char in text:
        if char in _GSM7:
            folded.append(char)
            continue
        bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        folded.append(bare if bare and all(c in _GSM7 for c in bare) else "?")
    return "".join(folded)


def gsm7_segments(text: str) -> int:
    """How many SMS segments a GSM-7 text takes: 160 septets alone, 153 each when split."""
    septets = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
    return 1 if septets <= 160 else math.ceil(septets / 153)


def _stop() -> str:
    return _("Reply STOP to opt out.")


def local_when(appointment: Appointment) -> str:
    """ "Mon Mar 8, 9:00 AM" (in Spanish "lun 8 mar, 9:00") on the location's wall clock."""
    local = appointment.start.astimezone(zoneinfo.ZoneInfo(appointment.location.timezone))
    return _when(local)


def _when(local: dt.datetime) -> str:
    if translation.get_language() == "es":
        return (
            f"{WEEKDAYS_ABBR[local.weekday()]} {local.day} {MONTHS_3[local.month]}, {local.hour}:{local:%M}"
        )
    hour = local.hour % 12 or 12
    return f"{local:%a %b} {local.day}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def visit_notice(
    *, kind: str, appointment: Appointment, link: str = "", language: str = DEFAULT_LANGUAGE
) -> str:
    """A visit's confirmation, move notice, reminder or cancellation notice. `link` is the visit
    page's (notifications.visit_links); the cancellation needs none."""
    with translation.override(language):
        values = {
            "practice": settings.PRACTICE_NAME,
            "place": appointment.location.name,
            "when": local_when(appointment),
            "phone": settings.PRACTICE_PHONE,
            "link": link,
        }
        if kind == "cancelled":
            body = _(
                "%(practice)s: your visit at %(place)s on %(when)s is cancelled. To rebook call %(phone)s."
            )
            return gsm7_fold(f"{body % values} {_stop()}")
        lead = {
            "confirmation": _("%(practice)s: your visit at %(place)s is booked for %(when)s."),
            "rescheduled": _("%(practice)s: your visit has moved to %(when)s at %(place)s."),
            "reminder": _("%(practice)s reminder: your visit at %(place)s on %(when)s."),
        }[kind]
        if link:
            ask = _("Reply YES to confirm, or manage your visit at %(link)s")
        else:
            ask = _("Reply YES to confirm or R to reschedule.")
        return gsm7_fold(f"{lead % values} {ask % values} {_stop()}")


def visit_stranded(*, appointment: Appointment, link: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A closure (or an inactive clinic or surgeon) strands the visit: pick a new time."""
    with translation.override(language):
        values = {"practice": settings.PRACTICE_NAME, "when": local_when(appointment), "link": link}
        body = _("%(practice)s: sorry, your visit on %(when)s can't go ahead. Pick a new time: %(link)s")
        return gsm7_fold(f"{body % values} {_stop()}")


def follow_up_due(*, language: str = DEFAULT_LANGUAGE) -> str:
    with translation.override(language):
        body = _(
            "%(practice)s: it is time to book your follow-up visit. Call %(phone)s or reply R and we will call you."
        )
        return gsm7_fold(
            f"{body % {'practice': settings.PRACTICE_NAME, 'phone': settings.PRACTICE_PHONE}} {_stop()}"
        )


def referral_received(*, days: int, language: str = DEFAULT_LANGUAGE) -> str:
    """Only that a referral arrived and when we call: never who referred, or why."""
    with translation.override(language):
        if days <= 0:
            within = _("today")
        else:
            within = ngettext("within %(days)d day", "within %(days)d days", days) % {"days": days}
        body = _(
            "%(practice)s: we received your referral. We will call you %(within)s to book your visit. "
            "Questions: %(phone)s."
        )
        values = {"practice": settings.PRACTICE_NAME, "within": within, "phone": settings.PRACTICE_PHONE}
        return gsm7_fold(f"{body % values} {_stop()}")


def waitlist_offer(*, appointment: Appointment, language: str = DEFAULT_LANGUAGE) -> str:
    with translation.override(language):
        body = _("%(practice)s: an earlier visit is free at %(place)s on %(when)s. Reply YES to take it.")
        values = {
            "practice": settings.PRACTICE_NAME,
            "place": appointment.location.name,
            "when": local_when(appointment),
        }
        return gsm7_fold(f"{body % values} {_stop()}")


def waitlist_gone(*, appointment: Appointment, language: str = DEFAULT_LANGUAGE) -> str:
    with translation.override(language):
        body = _("%(practice)s: the visit on %(when)s has been taken. You stay on our waitlist.")
        return gsm7_fold(
            f"{body % {'practice': settings.PRACTICE_NAME, 'when': local_when(appointment)}} {_stop()}"
        )


def waitlist_gone_reply(*, language: str = DEFAULT_LANGUAGE) -> str:
    with translation.override(language):
        body = _("%(practice)s: sorry, that visit has been taken. You stay on our waitlist.")
        return gsm7_fold(body % {"practice": settings.PRACTICE_NAME})


def confirmed_reply(*, appointment: Appointment, language: str = DEFAULT_LANGUAGE) -> str:
    with translation.override(language):
        body = _("%(practice)s: thank you, your visit on %(when)s is confirmed.")
        return gsm7_fold(body % {"practice": settings.PRACTICE_NAME, "when": local_when(appointment)})


def call_back_reply(*, language: str = DEFAULT_LANGUAGE) -> str:
    with translation.override(language):
        return gsm7_fold(
            _("%(practice)s: we will call you to find a new time.") % {"practice": settings.PRACTICE_NAME}
        )


def help_reply(*, language: str = DEFAULT_LANGUAGE) -> str:
    with translation.override(language):
        body = _("%(practice)s: call us on %(phone)s. Para mensajes en español responda ESPAÑOL.")
        return gsm7_fold(
            f"{body % {'practice': settings.PRACTICE_NAME, 'phone': settings.PRACTICE_PHONE}} {_stop()}"
        )


def language_reply(*, language: str) -> str:
    """The answer to ESPAÑOL or ENGLISH, in the language just chosen."""
    with translation.override(language):
        body = _("%(practice)s: we will text you in English from now on.")
        return gsm7_fold(f"{body % {'practice': settings.PRACTICE_NAME}} {_stop()}")
