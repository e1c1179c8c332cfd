"""Replies: a patient texts the practice; YES books an offered slot or confirms the next visit,
STOP and START change consent, ESPAÑOL and ENGLISH the language of the texts, anything else goes
to a scheduler's worklist. Answers are in the patient's language; STOP works in any."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from booking.models import Appointment, AppointmentStatus, Patient
from booking.services import (
    appointment_confirm,
    waitlist_offer_accept,
    waitlist_offer_open,
    waitlist_offer_recently_gone,
)
from notifications import content
from notifications.consent import patient_opt_in, patient_opt_out
from notifications.models import InboundMessage, Message, ReplyIntent, WorklistKind
from notifications.sending import LIVE_VISIT
from notifications.worklist import worklist_reply_add

# Twilio's opt-out words (and ours: START, HELP) after trimming and upper-casing.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES START"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})
YES_WORDS = frozenset({"YES", "Y", "SI", "SÍ"})
LANGUAGE_WORDS = {
    "ESPAÑOL": "es",
    "ESPANOL": "es",
    "SPANISH": "es",
    "ENGLISH": "en",
    "INGLES": "en",
    "INGLÉS": "en",
}


def reply_intent(body: str) -> str:
    word = " ".join(body.split()).upper().strip(".!")
    if word in OPT_OUT_WORDS:
        return ReplyIntent.STOP
    if word in OPT_IN_WORDS:
        return ReplyIntent.START
    if word in HELP_WORDS:
        return ReplyIntent.HELP
    if word in YES_WORDS:
        return ReplyIntent.YES
    if word in LANGUAGE_WORDS:
        return ReplyIntent.LANGUAGE
    if word == "C":
        return ReplyIntent.CONFIRM
    if word == "R":
        return ReplyIntent.RESCHEDULE
    return ReplyIntent.OTHER


def _patient_for_number(number: str) -> Patient | None:
    # A number shared by several patients (a family phone) answers for the one texted last.
    latest = Message.objects.filter(to=number).order_by("-created_at", "-id").values("patient_id").first()
    if latest is not None:
        return Patient.objects.filter(pk=latest["patient_id"]).first()
    return Patient.objects.filter(phone=number).order_by("-id").first()


def inbound_receive(*, provider_sid: str, from_number: str, body: str) -> str:
    """A patient texted the practice. Returns the reply to send back ("" for none).

    Twilio retries a webhook it thinks failed: a MessageSid seen before changes nothing again.
    """
    intent = reply_intent(body)
    with transaction.atomic():
        patient = _patient_for_number(from_number)
        inbound, created = InboundMessage.objects.get_or_create(
            provider_sid=provider_sid,
            defaults={"from_number": from_number, "patient": patient, "body": body, "intent": intent},
        )
        if not created:
            return inbound.outcome if inbound.intent == ReplyIntent.HELP else ""
        reply, outcome = _act_on_reply(inbound=inbound, patient=patient, intent=intent, body=body)
        inbound.outcome = outcome[:200]
        inbound.save(update_fields=["outcome"])
    return reply


def _needs_a_human(inbound: InboundMessage, patient: Patient | None, kind: str, summary: str) -> None:
    worklist_reply_add(inbound=inbound, patient=patient, kind=kind, summary=summary)


def _language_set(*, patient: Patient, body: str) -> str:
    language = LANGUAGE_WORDS[" ".join(body.split()).upper().strip(".!")]
    if patient.language != language:
        patient.language = language
        patient._change_reason = f"Replied {body.strip()[:20]} by SMS"  # type: ignore[attr-defined]
        patient.save(update_fields=["language"])
    return language


def _act_on_reply(
    *, inbound: InboundMessage, patient: Patient | None, intent: str, body: str = ""
) -> tuple[str, str]:
    language = patient.language if patient is not None else content.DEFAULT_LANGUAGE
    if intent == ReplyIntent.HELP:
        help_text = content.help_reply(language=language)
        return help_text, help_text
    if patient is None:
        _needs_a_human(inbound, None, WorklistKind.REPLY, "A text from a number no patient has.")
        return "", "unknown number"
    if intent == ReplyIntent.STOP:
        patient_opt_out(patient=patient)
        return "", "opted out"  # Twilio itself answers STOP with its confirmation
    if intent == ReplyIntent.START:
        patient_opt_in(patient=patient)
        return "", "opted in"
    if intent == ReplyIntent.LANGUAGE:
        language = _language_set(patient=patient, body=body)
        return content.language_reply(language=language), f"language {language}"
    if intent == ReplyIntent.YES:
        offer = waitlist_offer_open(patient=patient)
        if offer is not None:
            booked = waitlist_offer_accept(offer=offer)
            if booked is None:
                return content.waitlist_gone_reply(language=language), "waitlist offer gone"
            return "", f"waitlist offer accepted: appointment {booked.pk}"
    if intent in {ReplyIntent.YES, ReplyIntent.CONFIRM}:
        confirmed = _confirm_next_visit(patient=patient)
        if confirmed is None and intent == ReplyIntent.YES and waitlist_offer_recently_gone(patient=patient):
            return content.waitlist_gone_reply(language=language), "waitlist offer already gone"
        if confirmed is None:
            _needs_a_human(
                inbound, patient, WorklistKind.REPLY, "Replied to confirm, but has no upcoming visit."
            )
            return "", "no upcoming visit to confirm"
        return content.confirmed_reply(
            appointment=confirmed, language=language
        ), f"confirmed appointment {confirmed.pk}"
    if intent == ReplyIntent.RESCHEDULE:
        _needs_a_human(inbound, patient, WorklistKind.CALL_BACK, "Asks for a call back to reschedule.")
        return content.call_back_reply(language=language), "call back requested"
    _needs_a_human(inbound, patient, WorklistKind.REPLY, "Replied with a text that needs a person.")
    return "", "to the worklist"


def _confirm_next_visit(*, patient: Patient) -> Appointment | None:
    upcoming = (
        Appointment.objects.filter(patient=patient, status__in=LIVE_VISIT, start__gt=timezone.now())
        .select_related("location")
        .order_by("start")
        .first()
    )
    if upcoming is None:
        return None
    if upcoming.status == AppointmentStatus.CONFIRMED:
        return upcoming
    return appointment_confirm(appointment=upcoming)
