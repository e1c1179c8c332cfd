"""The Django admin for patients, appointments and the waitlist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from booking.models import Patient
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site(administrator: User) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


def patient_form(**overrides: str) -> dict[str, str]:
    return {
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "1961-04-12",
        "phone": "+13125550199",
        "record_number": "",
        "preferred_location": "",
        **overrides,
    }


def test_the_admin_adds_a_patient(admin_site: Client) -> None:
    response = admin_site.post("/admin/booking/patient/add/", patient_form())
    assert response.status_code == 302
    assert Patient.objects.get().record_number is None


def test_the_admin_refuses_a_date_of_birth_in_the_future_on_the_form(admin_site: Client) -> None:
    response = admin_site.post("/admin/booking/patient/add/", patient_form(date_of_birth="2999-01-01"))
    assert response.status_code == 200
    assert "date_of_birth" in response.context["adminform"].form.errors
    assert not Patient.objects.exists()


def test_the_admin_lists_and_searches_patients_appointments_and_the_waitlist(admin_site: Client) -> None:
    appointment = AppointmentFactory(patient=PatientFactory(last_name="Lopez"))
    WaitlistEntryFactory(patient=appointment.patient)
    for url in [
        "/admin/booking/patient/",
        "/admin/booking/appointment/",
        "/admin/booking/waitlistentry/",
        "/admin/booking/waitlistoffer/",
        "/admin/booking/visitevent/",
    ]:
        response = admin_site.get(url, {"q": "Lopez"})
        assert response.status_code == 200, url
        assert "Lopez" in response.content.decode()


def test_appointments_are_read_only_in_the_admin(admin_site: Client) -> None:
    appointment = AppointmentFactory()
    assert admin_site.get("/admin/booking/appointment/add/").status_code == 403
    page = admin_site.get(f"/admin/booking/appointment/{appointment.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_the_appointment_list_shows_visits_on_the_locations_clock(admin_site: Client) -> None:
    # 15:00 UTC on 8 March 2027: 09:00 in Chicago (CST); in Denver, 08:00 MST.
    AppointmentFactory(location=LocationFactory(timezone="America/Chicago"))
    AppointmentFactory(location=LocationFactory(timezone="America/Denver"))
    page = admin_site.get("/admin/booking/appointment/").content.decode()
    assert "2027-03-08 09:00-10:00 CST (UTC-06:00)" in page
    assert "2027-03-08 08:00-09:00 MST (UTC-07:00)" in page
    assert "15:00" not in page


def test_the_appointment_page_shows_its_times_on_the_locations_clock(admin_site: Client) -> None:
    # The week after the spring change: Chicago is on daylight time, five hours behind UTC.
    appointment = AppointmentFactory(
        location=LocationFactory(timezone="America/Chicago"),
        start=dt.datetime(2027, 3, 15, 15, 0, tzinfo=dt.UTC),
        confirmed_at=dt.datetime(2027, 3, 10, 14, 5, tzinfo=dt.UTC),
    )
    page = admin_site.get(f"/admin/booking/appointment/{appointment.pk}/change/").content.decode()
    assert "2027-03-15 10:00 CDT (UTC-05:00)" in page
    assert "2027-03-15 11:00 CDT (UTC-05:00)" in page
    assert "2027-03-10 08:05 CST (UTC-06:00)" in page


def test_the_referral_list_shows_arrival_and_due_date_on_the_clinics_clock(admin_site: Client) -> None:
    from booking.services import referral_create
    from tests.factories import AppointmentTypeFactory, tier

    referral_create(
        patient=PatientFactory(),
        tier=tier("standard"),
        appointment_type=AppointmentTypeFactory(),
        received_at=dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC),
        preferred_location=LocationFactory(timezone="America/Chicago"),
        now=dt.datetime(2027, 3, 2, tzinfo=dt.UTC),
    )
    page = admin_site.get("/admin/booking/referral/").content.decode()
    assert "2027-03-01 09:00 CST (UTC-06:00)" in page
    assert "2027-03-16 00:00 CDT (UTC-05:00)" in page
    assert admin_site.get("/admin/booking/referral/add/").status_code == 403
