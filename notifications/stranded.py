"""Visits a closure strands: each patient with consent gets one text with the visit page's link
to pick a new time; a scheduler's worklist gets those without consent at once, and those who have
not moved or cancelled the visit a day after their text (`stranded_unanswered_scan`, by beat)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone

from booking.models import Appointment
from notifications import content
from notifications.models import Message, MessageKind, MessageStatus, WorklistItem, WorklistKind
from notifications.outbox import messages_write, outbox_row
from notifications.visit_links import LIVE, visit_link_token, visit_link_url
from notifications.visit_page.services import visit_times_offered

# A patient texted about a stranded visit who has not acted by then reaches the worklist.
ANSWER_WITHIN = dt.timedelta(hours=24)


def _redacted(body: str, token: str) -> str:
    """A preview shows no working link (the token is a key), at the text's true length."""
    return body.replace(token, "x" * len(token))


def _notice(
    visit: Appointment, message: Message | None, *, dry_run: bool, no_times: bool = False
) -> dict[str, Any]:
    local = visit.start.astimezone(zoneinfo.ZoneInfo(visit.location.timezone))
    texted = message is not None and message.status != MessageStatus.SUPPRESSED
    body = None
    if message is not None and texted:
        body = _redacted(message.body, visit_link_token(appointment=visit)) if dry_run else message.body
    return {
        "appointment": visit.pk,
        "patient": visit.patient_id,
        "start": visit.start.isoformat(),
        "local_start": local.isoformat(),
        "channel": "sms" if texted else "worklist",
        "text": body,
        "segments": content.gsm7_segments(body) if body else 0,
        "why_not_texted": "no_times"
        if no_times
        else ("" if texted or message is None else message.suppressed_reason),
    }


def visits_stranded_notify(
    *, appointment_ids: Sequence[int], dry_run: bool
) -> tuple[list[Mapping[str, Any]], list[int]]:
    """One notice per stranded live visit, and the ids of the texts due now. Without `dry_run`,
    the texts and worklist items are written (in the caller's transaction); with it, nothing is."""
    now = timezone.now()
    stranded = list(
        Appointment.objects.filter(pk__in=appointment_ids, status__in=LIVE, start__gt=now)
        .select_related("patient", "location")
        .order_by("start", "pk")
    )
    candidates: list[tuple[Appointment, Message]] = [
        (
            visit,
            outbox_row(
                patient=visit.patient,
                appointment=visit,
                kind=MessageKind.STRANDED,
                dedupe_key=f"appointment:{visit.pk}:stranded:{int(visit.start.timestamp())}",
                body=content.visit_stranded(
                    appointment=visit,
                    link=visit_link_url(appointment=visit),
                    language=visit.patient.language,
                ),
                due_at=now,
                zone=visit.location.timezone,
            ),
        )
        for visit in stranded
    ]
    # A link to a page with no time to pick (the clinic deactivated, nothing free in the next two
    # weeks) would only say "call us": those patients go to the worklist instead of a text.
    no_times = {
        visit.pk
        for visit, row in candidates
        if row.status != MessageStatus.SUPPRESSED
        and not visit_times_offered(visit=visit, now=now, stranded=True)
    }
    rows = [row for visit, row in candidates if visit.pk not in no_times]
    texted = iter(rows)
    notices: list[Mapping[str, Any]] = [
        _notice(visit, None, dry_run=dry_run, no_times=True)
        if visit.pk in no_times
        else _notice(visit, next(texted), dry_run=dry_run)
        for visit in stranded
    ]
    if dry_run:
        return notices, []
    due = messages_write(rows, now=now)
    WorklistItem.objects.bulk_create(
        WorklistItem(
            kind=WorklistKind.CLOSURE,
            patient=visit.patient,
            summary=f"Visit {visit.pk} on {notice['local_start'][:16]} can't go ahead (closure); "
            + (
                "no free time to offer by text: call them."
                if notice["why_not_texted"] == "no_times"
                else "no texts to this patient: call them."
            ),
        )
        for visit, notice in zip(stranded, notices, strict=True)
        if notice["channel"] == "worklist"
    )
    return notices, due


def stranded_unanswered_scan(*, now: dt.datetime | None = None) -> int:
    """Worklist items for stranded visits still unmoved a day after their text; how many. Safe to
    run twice: a text has one worklist item at most."""
    now = now or timezone.now()
    unanswered = Message.objects.filter(
        kind=MessageKind.STRANDED,
        created_at__lte=now - ANSWER_WITHIN,
        appointment__status__in=LIVE,
        appointment__start__gt=now,
        worklist_item__isnull=True,
    ).exclude(status=MessageStatus.SUPPRESSED)
    created = 0
    for message in unanswered.only("pk", "patient_id", "appointment_id"):
        _, made = WorklistItem.objects.get_or_create(
            message=message,
            defaults={
                "kind": WorklistKind.CLOSURE,
                "patient_id": message.patient_id,
                "summary": f"Visit {message.appointment_id} can't go ahead (closure); the patient has "
                "not picked a new time a day after the text: call them.",
            },
        )
        created += made
    return created
