"""Reading and correcting one surgery; a new date re-plans its follow-up windows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from booking import services
from booking.models import FollowUpWindow, Patient, Surgery
from tests.factories import AppointmentFactory, PatientFactory, SurgeonFactory, UserFactory

pytestmark = pytest.mark.django_db

# Monday 2027-03-01, 9:00 in Chicago.
TODAY = dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC)
# Monday 2027-03-08, 9:00 in Chicago: inside the 2-week window (Mar 1 to Mar 8) of a Feb 15 surgery.
VISIT = dt.datetime(2027, 3, 8, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def today() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def patient() -> Patient:
    return PatientFactory()


@pytest.fixture
def surgery(patient: Patient) -> Surgery:
    return services.surgery_record(
        patient=patient, surgeon=SurgeonFactory(), performed_on=dt.date(2027, 2, 15), procedure="L4-L5 fusion"
    )


def _url(surgery: Surgery) -> str:
    return f"/api/v1/surgeries/{surgery.pk}/"


def _windows(surgery: Surgery) -> dict[str, tuple[str, str, int | None]]:
    return {
        w.label: (w.opens_on.isoformat(), w.closes_on.isoformat(), w.appointment_id)
        for w in FollowUpWindow.objects.filter(surgery=surgery)
    }


def test_a_scheduler_reads_one_surgery_with_its_follow_up_windows(
    scheduler_client: APIClient, surgery: Surgery
) -> None:
    response = scheduler_client.get(_url(surgery))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["performed_on"], body["procedure"]) == (surgery.pk, "2027-02-15", "L4-L5 fusion")
    assert [(w["label"], w["opens_on"], w["state"]) for w in body["follow_ups"][:2]] == [
        ("2w", "2027-03-01", "open"),
        ("6w", "2027-03-29", "upcoming"),
    ]


def test_an_unknown_surgery_is_a_404(scheduler_client: APIClient) -> None:
    assert scheduler_client.get("/api/v1/surgeries/999999/").status_code == 404
    assert scheduler_client.patch("/api/v1/surgeries/999999/", {}, format="json").status_code == 404


def test_correcting_the_procedure_and_surgeon_leaves_the_follow_up_plan_alone(
    scheduler_client: APIClient, surgery: Surgery
) -> None:
    before = _windows(surgery)
    surgeon = SurgeonFactory()
    response = scheduler_client.patch(
        _url(surgery), {"procedure": " L5-S1 fusion ", "surgeon": surgeon.pk}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["procedure"], response.json()["surgeon"]) == ("L5-S1 fusion", surgeon.pk)
    assert response.json()["performed_on"] == "2027-02-15"
    assert _windows(surgery) == before


def test_a_corrected_date_moves_the_windows_no_visit_fulfils(
    scheduler_client: APIClient, surgery: Surgery
) -> None:
    response = scheduler_client.patch(_url(surgery), {"performed_on": "2027-02-08"}, format="json")
    assert response.status_code == 200
    assert [(w["label"], w["opens_on"], w["state"]) for w in response.json()["follow_ups"][:2]] == [
        ("2w", "2027-02-22", "open"),
        ("6w", "2027-03-22", "upcoming"),
    ]
    assert Surgery.objects.get().performed_on == dt.date(2027, 2, 8)
    assert FollowUpWindow.objects.filter(surgery=surgery).count() == 6


def test_a_visit_still_inside_its_moved_window_keeps_fulfilling_it(
    scheduler_client: APIClient, surgery: Surgery, patient: Patient
) -> None:
    visit = AppointmentFactory(patient=patient, start=VISIT)
    services.follow_up_link(appointment=visit)
    # A Feb 16 surgery: the 2-week window is Mar 2 to Mar 9.
    response = scheduler_client.patch(_url(surgery), {"performed_on": "2027-02-16"}, format="json")
    two_weeks = response.json()["follow_ups"][0]
    assert (two_weeks["label"], two_weeks["opens_on"], two_weeks["appointment"], two_weeks["state"]) == (
        "2w",
        "2027-03-02",
        visit.pk,
        "booked",
    )


def test_a_visit_outside_its_moved_window_fulfils_the_window_it_now_falls_in(
    scheduler_client: APIClient, surgery: Surgery, patient: Patient
) -> None:
    visit = AppointmentFactory(patient=patient, start=VISIT)
    services.follow_up_link(appointment=visit)
    # A Jan 25 surgery: the 2-week window is Feb 8 to Feb 15, the 6-week one opens Mar 8.
    response = scheduler_client.patch(_url(surgery), {"performed_on": "2027-01-25"}, format="json")
    states = {w["label"]: (w["state"], w["appointment"]) for w in response.json()["follow_ups"]}
    assert states["2w"] == ("overdue", None)
    assert states["6w"] == ("booked", visit.pk)


def test_a_visit_outside_every_moved_window_is_let_go_and_its_window_is_due_again(
    scheduler_client: APIClient, surgery: Surgery, patient: Patient
) -> None:
    visit = AppointmentFactory(patient=patient, start=VISIT)
    services.follow_up_link(appointment=visit)
    # A Feb 1 surgery: the 2-week window is Feb 15 to Feb 22, the 6-week one opens Mar 15.
    response = scheduler_client.patch(_url(surgery), {"performed_on": "2027-02-01"}, format="json")
    states = {w["label"]: (w["state"], w["appointment"]) for w in response.json()["follow_ups"]}
    assert states["2w"] == ("overdue", None)
    assert not FollowUpWindow.objects.filter(appointment=visit).exists()


def test_a_corrected_date_after_today_is_a_400_and_changes_nothing(
    scheduler_client: APIClient, surgery: Surgery
) -> None:
    before = _windows(surgery)
    response = scheduler_client.patch(_url(surgery), {"performed_on": "2027-03-02"}, format="json")
    assert response.status_code == 400
    assert "is after today" in response.json()["error"]["fields"]["performed_on"][0]
    assert Surgery.objects.get().performed_on == dt.date(2027, 2, 15)
    assert _windows(surgery) == before


def test_a_malformed_date_is_a_400_naming_the_field(scheduler_client: APIClient, surgery: Surgery) -> None:
    response = scheduler_client.patch(_url(surgery), {"performed_on": "last week"}, format="json")
    assert response.status_code == 400
    assert "performed_on" in response.json()["error"]["fields"]


def test_replacing_a_surgery_with_put_is_not_offered(scheduler_client: APIClient, surgery: Surgery) -> None:
    assert scheduler_client.put(_url(surgery), {"procedure": "x"}, format="json").status_code == 405


def test_anonymous_users_cannot_read_or_correct_a_surgery(
    anonymous_client: APIClient, surgery: Surgery
) -> None:
    assert anonymous_client.get(_url(surgery)).status_code == 401
    assert anonymous_client.patch(_url(surgery), {"procedure": "x"}, format="json").status_code == 401


def test_a_user_without_a_role_cannot_read_or_correct_a_surgery(surgery: Surgery) -> None:
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get(_url(surgery)).status_code == 403
    assert client.patch(_url(surgery), {"procedure": "x"}, format="json").status_code == 403
    assert Surgery.objects.get().procedure == "L4-L5 fusion"


def test_reading_and_correcting_a_surgery_are_in_the_schema(scheduler_client: APIClient) -> None:
    schema = scheduler_client.get("/api/v1/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/surgeries/{id}/"]
    assert set(operations) - {"parameters"} == {"get", "patch"}
    request = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request.endswith("PatchedSurgeryUpdateInputRequest")
