"""The visit page a patient opens from a text's link: date and place first, the rest after the
date of birth; confirm, cancel or pick another time; wrong or stale links get a friendly page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Appointment, AppointmentStatus, Referral, ReferralStatus
from booking.services import appointment_cancel, appointment_reschedule, referral_create
from notifications.models import Message, MessageKind, VisitPageAccess, VisitPageAction
from notifications.visit_links import visit_for_link, visit_link_token, visit_link_url
from notifications.visit_page.services import BIRTH_DATE_TRIES_PER_VISIT, REFUSALS_PER_ADDRESS
from tests.factories import PatientFactory
from tests.notifications.conftest import MONDAY_MORNING, book, clinic

pytestmark = pytest.mark.django_db

# Monday 2027-03-08 at 10:00 in Chicago (CST, UTC-6); now is a week before.
VISIT = dt.datetime(2027, 3, 8, 16, 0, tzinfo=dt.UTC)
DOB = {"day": "17", "month": "5", "year": "1970"}  # PatientFactory's


def _booked(**patient: Any) -> Appointment:
    location, surgeon = clinic(name="Lakeview Clinic")
    location.address = "400 N Lake Shore Dr\nChicago, IL 60611"
    location.save()
    return book(location=location, surgeon=surgeon, start=VISIT, patient=PatientFactory(**patient))


def _path(visit: Appointment, action: str = "") -> str:
    return f"/v/{visit_link_token(appointment=visit)}{'/' + action if action else ''}"


def _verified(client: Client, visit: Appointment) -> None:
    response = client.post(_path(visit), DOB)
    assert response.status_code == 302


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_confirmation_text_carries_the_link_to_its_visit_within_two_segments() -> None:
    visit = _booked()
    body = Message.objects.get(appointment=visit, kind=MessageKind.CONFIRMATION).body
    link = visit_link_url(appointment=visit)
    assert link in body
    assert re.fullmatch(r"https://sms\.example\.org/v/[0-9a-z]+-[A-Za-z0-9_-]{12}", link)
    assert len(body) <= 306
    for reminder in Message.objects.filter(appointment=visit, kind=MessageKind.REMINDER):
        assert link in reminder.body


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_before_the_date_of_birth_the_page_shows_only_date_and_place(client: Client) -> None:
    visit = _booked(first_name="Rosa", last_name="Delgado")
    page = client.get(_path(visit)).content.decode()
    assert "Lakeview Clinic" in page
    assert "400 N Lake Shore Dr" in page
    assert "Monday" in page and "March 8, 2027" in page
    assert "date of birth" in page
    for private in ("Rosa", "Delgado", "cauda", "scoliosis", "Confirm, I will come"):
        assert private not in page


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_page_never_shows_the_reason_the_surgeon_specialty_or_the_patients_name(client: Client) -> None:
    visit = _booked(first_name="Rosa", last_name="Delgado")
    _verified(client, visit)
    pages = [client.get(_path(visit, action)).content.decode() for action in ("", "times", "cancel")]
    for page in pages:
        for private in ("cauda", "Cauda", "scoliosis", "Delgado"):
            assert private not in page


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_right_date_of_birth_opens_the_actions(client: Client) -> None:
    visit = _booked()
    response = client.post(_path(visit), DOB, follow=True)
    page = response.content.decode()
    assert "Confirm, I will come" in page
    assert "Pick another time" in page
    assert "Cancel my visit" in page
    actions = list(VisitPageAccess.objects.filter(appointment=visit).values_list("action", flat=True))
    assert VisitPageAction.BIRTH_DATE_ACCEPTED in actions


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_wrong_date_of_birth_is_refused_and_the_actions_stay_hidden(client: Client) -> None:
    visit = _booked()
    response = client.post(_path(visit), {"day": "18", "month": "5", "year": "1970"})
    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    assert client.post(_path(visit, "confirm")).status_code == 200  # the date of birth form again
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_five_wrong_dates_of_birth_pause_the_page_even_for_the_right_one(client: Client) -> None:
    visit = _booked()
    for _ in range(BIRTH_DATE_TRIES_PER_VISIT):
        client.post(_path(visit), {"day": "1", "month": "1", "year": "1999"})
    response = Client().post(_path(visit), DOB)
    assert response.status_code == 429
    assert "Please call us" in response.content.decode()


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_an_address_guessing_links_is_paused(client: Client) -> None:
    visit = _booked()
    for n in range(REFUSALS_PER_ADDRESS):
        assert client.get(f"/v/{n}-AAAAAAAAAAAA").status_code == 404
    assert client.get(_path(visit)).status_code == 429
    assert Client(REMOTE_ADDR="10.0.0.9").get(_path(visit)).status_code == 200


@pytest.mark.parametrize(
    "token", ["nonsense", "1-short", "zzzzzzzzzzzzzzzzzzz-AAAAAAAAAAAA", "%00", "1-" + "A" * 12]
)
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_wrong_link_gets_a_friendly_page_never_an_error(client: Client, token: str) -> None:
    _booked()
    response = client.get(f"/v/{token}")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "This link no longer works" in response.content.decode()


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_link_stops_working_when_the_visit_is_cancelled() -> None:
    visit = _booked()
    token = visit_link_token(appointment=visit)
    appointment_cancel(appointment=visit, reason="Patient asked")
    assert visit_for_link(token=token, now=MONDAY_MORNING) is None


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_link_stops_working_when_the_visit_moves_and_the_new_visit_has_its_own() -> None:
    visit = _booked()
    token = visit_link_token(appointment=visit)
    moved = appointment_reschedule(appointment=visit, start=VISIT + dt.timedelta(hours=2))
    assert visit_for_link(token=token, now=MONDAY_MORNING) is None
    opened = visit_for_link(token=visit_link_token(appointment=moved), now=MONDAY_MORNING)
    assert opened is not None and opened.pk == moved.pk


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_link_stops_working_when_the_visit_starts() -> None:
    visit = _booked()
    token = visit_link_token(appointment=visit)
    assert visit_for_link(token=token, now=VISIT - dt.timedelta(minutes=1)) is not None
    assert visit_for_link(token=token, now=VISIT) is None


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_link_signed_for_another_start_does_not_open_the_visit() -> None:
    visit = _booked()
    token = visit_link_token(appointment=visit)
    later = dt.timedelta(hours=1)
    Appointment.objects.filter(pk=visit.pk).update(
        start=VISIT + later, end=visit.end + later, busy_until=visit.busy_until + later
    )
    assert visit_for_link(token=token, now=MONDAY_MORNING) is None


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_confirm_confirms_the_visit_and_is_audited(client: Client) -> None:
    visit = _booked()
    _verified(client, visit)
    response = client.post(_path(visit, "confirm"), follow=True)
    assert "Your visit is confirmed" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    assert VisitPageAccess.objects.filter(appointment=visit, action=VisitPageAction.CONFIRMED).count() == 1


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_cancel_asks_for_a_reason_and_cancels_with_it(client: Client) -> None:
    visit = _booked()
    _verified(client, visit)
    assert client.post(_path(visit, "cancel"), {}).status_code == 200
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    response = client.post(_path(visit, "cancel"), {"reason": "conflict"})
    assert "Your visit is cancelled" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert "Cannot come at this time" in visit.cancellation_reason
    assert visit.late_cancellation is False
    assert client.get(_path(visit)).status_code == 404


def test_a_cancellation_from_the_link_within_a_day_is_late(client: Client) -> None:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        visit = _booked()
    with time_machine.travel(VISIT - dt.timedelta(hours=3), tick=False):
        _verified(client, visit)
        client.post(_path(visit, "cancel"), {"reason": "better"})
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert visit.late_cancellation is True


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_pick_another_time_offers_the_surgeons_free_times_inside_the_window(client: Client) -> None:
    visit = _booked()
    _verified(client, visit)
    page = client.get(_path(visit, "times")).content.decode()
    values = re.findall(r'name="slot" id="[^"]+" value="(\d+)@(\d+)"', page)
    assert values
    window_end = dt.datetime(2027, 3, 16, 5, 0, tzinfo=dt.UTC)  # 14 days on, local midnight
    for surgeon_id, stamp in values:
        assert int(surgeon_id) == visit.surgeon_id
        start = dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC)
        assert MONDAY_MORNING <= start < window_end
        assert start != visit.start


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_pick_another_time_stays_before_the_due_date_of_the_visits_referral(client: Client) -> None:
    visit = _booked()
    # Referred ten days ago: of the standard tier's 14 days, four are left (to Friday's midnight).
    referral = referral_create(
        patient=visit.patient,
        tier=visit.tier,
        appointment_type=visit.appointment_type,
        received_at=MONDAY_MORNING - dt.timedelta(days=10),
        preferred_location=visit.location,
    )
    Referral.objects.filter(pk=referral.pk).update(appointment=visit, status=ReferralStatus.SCHEDULED)
    _verified(client, visit)
    page = client.get(_path(visit, "times")).content.decode()
    starts = [
        dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC)
        for _, stamp in re.findall(r'name="slot" id="[^"]+" value="(\d+)@(\d+)"', page)
    ]
    assert starts
    assert max(starts) < referral.due_by < dt.datetime(2027, 3, 16, 5, 0, tzinfo=dt.UTC)


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_picking_a_time_moves_the_visit_through_the_reschedule_service(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    visit = _booked()
    _verified(client, visit)
    page = client.get(_path(visit, "times")).content.decode()
    value = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', page)[2]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_path(visit, "times"), {"slot": value}, follow=True)
    assert "your visit has moved" in response.content.decode()
    visit.refresh_from_db()
    moved = Appointment.objects.get(rescheduled_from=visit)
    assert visit.status == AppointmentStatus.CANCELLED
    assert moved.status == AppointmentStatus.BOOKED
    assert int(moved.start.timestamp()) == int(value.split("@")[1])
    assert response.redirect_chain[-1][0] == _path(moved)
    assert VisitPageAccess.objects.filter(appointment=visit, action=VisitPageAction.RESCHEDULED).exists()
    assert Message.objects.filter(appointment=moved, kind=MessageKind.RESCHEDULED).exists()


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_time_that_was_not_offered_is_refused_and_nothing_changes(client: Client) -> None:
    visit = _booked()
    _verified(client, visit)
    outside = int((VISIT + dt.timedelta(days=30)).timestamp())
    response = client.post(_path(visit, "times"), {"slot": f"{visit.surgeon_id}@{outside}"})
    assert response.status_code == 200
    assert "has just been taken" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert not Appointment.objects.filter(rescheduled_from=visit).exists()


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_malformed_time_is_a_form_error_not_a_crash(client: Client) -> None:
    visit = _booked()
    _verified(client, visit)
    for value in ("", "x@y", "1@99999999999999999999"):
        assert client.post(_path(visit, "times"), {"slot": value}).status_code == 200


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_spanish_speaking_patient_gets_the_page_in_spanish(client: Client) -> None:
    visit = _booked(language="es")
    page = client.get(_path(visit)).content.decode()
    assert 'lang="es"' in page
    assert "Escriba su fecha de nacimiento" in page
    assert "marzo" in page


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_request_log_names_the_visit_page_without_its_token(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    visit = _booked()
    token = visit_link_token(appointment=visit)
    with caplog.at_level("INFO", logger="practice.request"):
        client.get(f"/v/{token}/times")
    (record,) = [r for r in caplog.records if r.name == "practice.request"]
    assert record.path == "/v/<token>/times"
    assert token not in caplog.text
