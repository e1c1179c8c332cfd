"""The visit page's views: thin; the rules are in `notifications.visit_page.services`.

Every answer is a page, never a 500: a wrong, expired or used link is a friendly 404; too many
refusals a 429 that says to call. Before the date of birth, only the date and place show.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from booking.models import Appointment
from booking.services import SlotUnavailable
from notifications.models import VisitPageAction
from notifications.visit_links import visit_for_link, visit_link_token
from notifications.visit_page import services
from notifications.visit_page.forms import BirthDateForm, CancelForm, MoveForm
from practice.apis import _client_ip as client_ip
from practice.errors import DomainError

_VERIFIED = "visit_page_verified"


def _ip(request: HttpRequest) -> str | None:
    """The client's address as the login lockout reads it (behind TRUSTED_PROXY_COUNT proxies)."""
    return client_ip(request) or None  # type: ignore[arg-type]  # it reads only request.META


def _when(start: dt.datetime, zone: str) -> dict[str, str]:
    local = timezone.localtime(start, zoneinfo.ZoneInfo(zone))
    return {
        "weekday": formats.date_format(local, "l"),
        "date": formats.date_format(local, "DATE_FORMAT"),
        "time": formats.time_format(local, "TIME_FORMAT"),
    }


def _verified(request: HttpRequest, visit: Appointment) -> bool:
    return visit.pk in request.session.get(_VERIFIED, [])


def _verify(request: HttpRequest, visit: Appointment) -> None:
    request.session[_VERIFIED] = [*request.session.get(_VERIFIED, [])[-9:], visit.pk]


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {"practice_name": settings.PRACTICE_NAME, "practice_phone": settings.PRACTICE_PHONE, **context}
    response = render(request, f"visit_page/{template}", context, status=status)
    response["Cache-Control"] = "no-store"
    # The token is in the URL: never sent to another site (and "no-referrer" would make Chrome
    # send Origin: null, which the CSRF check refuses).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _visit_context(visit: Appointment) -> dict[str, Any]:
    return {"visit": visit, "location": visit.location, "when": _when(visit.start, visit.location.timezone)}


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _open(request: HttpRequest, token: str) -> Appointment:
    """The visit of a valid link, or a page refusing it (raised as _Refused)."""
    now, ip = timezone.now(), _ip(request)
    visit = visit_for_link(token=token, now=now)
    if services.access_throttled(ip=ip, now=now, visit=visit):
        services.access_record(action=VisitPageAction.THROTTLED, visit=visit, ip=ip, now=now)
        raise _Refused(_page(request, "throttled.html", {}, status=429))
    if visit is None:
        services.access_record(
            action=VisitPageAction.BAD_LINK,
            ip=ip,
            now=now,
            detail="".join(c for c in token[:60] if c.isprintable()),
        )
        raise _Refused(_page(request, "invalid.html", {}, status=404))
    return visit


def _guarded(view: Any) -> Any:
    """Open the link, speak the patient's language, and ask for the date of birth first."""

    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        try:
            visit = _open(request, token)
        except _Refused as refused:
            return refused.response
        with translation.override(visit.patient.language):
            if not _verified(request, visit):
                return _birth_date(request, visit, token)
            return view(request, visit, token)

    return never_cache(require_http_methods(["GET", "POST"])(wrapper))


def _birth_date(request: HttpRequest, visit: Appointment, token: str) -> HttpResponse:
    now, ip = timezone.now(), _ip(request)
    form = BirthDateForm(request.POST if request.method == "POST" and "year" in request.POST else None)
    if form.is_bound and form.is_valid():
        if services.birth_date_matches(visit=visit, date_of_birth=form.cleaned_data["date_of_birth"]):
            _verify(request, visit)
            services.access_record(action=VisitPageAction.BIRTH_DATE_ACCEPTED, visit=visit, ip=ip, now=now)
            return redirect("visit-page", token=token)
        services.access_record(action=VisitPageAction.BIRTH_DATE_REFUSED, visit=visit, ip=ip, now=now)
        form.add_error(None, _("That date of birth does not match our records. Please try again."))
    elif not form.is_bound:
        services.access_record(action=VisitPageAction.OPENED, visit=visit, ip=ip, now=now)
    return _page(request, "birth_date.html", {**_visit_context(visit), "form": form, "token": token})


@_guarded
def visit_page(request: HttpRequest, visit: Appointment, token: str) -> HttpResponse:
    return _page(
        request,
        "visit.html",
        {
            **_visit_context(visit),
            "token": token,
            "confirmed": visit.status == "confirmed",
            "stranded": services.visit_is_stranded(visit=visit),
        },
    )


@_guarded
def visit_confirm(request: HttpRequest, visit: Appointment, token: str) -> HttpResponse:
    if request.method == "POST" and not services.visit_is_stranded(visit=visit):
        try:
            services.visit_confirm(visit=visit, ip=_ip(request), now=timezone.now())
        except DomainError:
            return _page(request, "invalid.html", {}, status=409)
        messages.success(request, _("Thank you, your visit is confirmed."))
    return redirect("visit-page", token=token)


@_guarded
def visit_cancel(request: HttpRequest, visit: Appointment, token: str) -> HttpResponse:
    form = CancelForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.visit_cancel(
                visit=visit,
                reason_code=form.cleaned_data["reason"],
                ip=_ip(request),
                now=timezone.now(),
            )
        except DomainError:
            return _page(request, "invalid.html", {}, status=409)
        return _page(request, "cancelled.html", _visit_context(visit))
    return _page(request, "cancel.html", {**_visit_context(visit), "form": form, "token": token})


@_guarded
def visit_times(request: HttpRequest, visit: Appointment, token: str) -> HttpResponse:
    now, ip = timezone.now(), _ip(request)
    form = MoveForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        surgeon_id, start = form.cleaned_data["slot"]
        try:
            moved = services.visit_move(visit=visit, start=start, surgeon_id=surgeon_id, ip=ip, now=now)
        except SlotUnavailable:
            form.add_error(None, _("Sorry, that time has just been taken. Please choose another."))
        except DomainError:
            return _page(request, "invalid.html", {}, status=409)
        else:
            _verify(request, moved)
            messages.success(request, _("Done: your visit has moved. We will text you the new time."))
            return redirect("visit-page", token=visit_link_token(appointment=moved))
    zone = visit.location.timezone
    slots = services.visit_times_offered(visit=visit, now=now)
    services.access_record(action=VisitPageAction.TIMES_SHOWN, visit=visit, ip=ip, now=now)
    days: dict[str, list[dict[str, str]]] = {}
    for slot in slots:
        when = _when(slot.start, zone)
        days.setdefault(f"{when['weekday']}, {when['date']}", []).append(
            {"value": f"{slot.surgeon_id}@{int(slot.start.timestamp())}", "time": when["time"]}
        )
    return _page(request, "times.html", {**_visit_context(visit), "form": form, "token": token, "days": days})
