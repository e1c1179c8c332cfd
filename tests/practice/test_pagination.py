"""Every list pages with ?limit=&offset=; a limit too large for the database is capped, not a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from booking.models import Surgery
from notifications.reactions import visit_booked
from practice.pagination import Pagination
from tests.factories import AppointmentFactory, LocationFactory, SurgeonFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/",
        "/api/v1/appointments/",
        "/api/v1/waitlist/",
        "/api/v1/locations/",
        "/api/v1/surgeons/",
        "/api/v1/appointment-types/",
    ],
)
def test_a_huge_limit_is_capped_at_the_largest_page(
    scheduler_client: APIClient, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setattr(Pagination, "max_limit", 1)
    visits = AppointmentFactory.create_batch(2, appointment_type__code="imaging-review")
    for visit in visits:
        visit_booked(appointment=visit)  # writes the visit's texts
        Surgery.objects.create(
            patient=visit.patient, surgeon=visit.surgeon, performed_on=dt.date(2027, 1, 4), procedure="x"
        )
    AppointmentFactory(appointment_type__code="post-op")
    WaitlistEntryFactory.create_batch(2)
    LocationFactory.create_batch(2)
    SurgeonFactory.create_batch(2)
    response = scheduler_client.get(url, {"limit": "9" * 30})
    assert response.status_code == 200
    assert response.json()["count"] >= 2
    assert len(response.json()["results"]) == 1
