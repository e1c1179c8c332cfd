"""The Django admin saves what the API accepts and shows on the form what the API refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from locations.models import Block, Closure, Location, OpeningHours, Surgeon, TimeOff
from tests.factories import BlockFactory, LocationFactory, SurgeonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site(administrator: User) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


def _management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _location_form(
    hours: list[tuple[int, str, str]], closures: list[dict[str, str]] | None = None, **fields: str
):
    data = {
        "name": "Lakeside Spine Naperville",
        "address": "1 Main St, Naperville, IL",
        "phone": "+16305550177",
        "timezone": "America/Chicago",
        "is_active": "on",
        **fields,
        **_management("hours", len(hours)),
        **_management("closures", len(closures or [])),
    }
    for index, (weekday, opens, closes) in enumerate(hours):
        data |= {
            f"hours-{index}-weekday": str(weekday),
            f"hours-{index}-opens": opens,
            f"hours-{index}-closes": closes,
        }
    for index, closure in enumerate(closures or []):
        data |= {f"closures-{index}-{key}": value for key, value in closure.items()}
    return data


def _surgeon_form(
    blocks: list[dict[str, str]], time_off: list[dict[str, str]] | None = None
) -> dict[str, str]:
    data = {
        "first_name": "Maya",
        "last_name": "Okafor",
        "display_name": "Dr. Maya Okafor",
        "specialties": "cervical spine",
        "is_active": "on",
        **_management("blocks", len(blocks)),
        **_management("time_off", len(time_off or [])),
    }
    for index, block in enumerate(blocks):
        data |= {f"blocks-{index}-{key}": value for key, value in block.items()}
    for index, row in enumerate(time_off or []):
        data |= {f"time_off-{index}-{key}": value for key, value in row.items()}
    return data


def _block(location: Location, weekday: int = 0, start: str = "08:00", end: str = "12:00") -> dict[str, str]:
    return {
        "location": str(location.pk),
        "weekday": str(weekday),
        "start": start,
        "end": end,
        "valid_from": "2027-01-01",
        "release_hours_before": "48",
    }


def test_the_admin_saves_a_location_with_a_lunch_break_and_a_closure(admin_site: Client) -> None:
    data = _location_form(
        [(0, "08:00", "12:00"), (0, "13:00", "17:00")],
        [{"start_date": "2027-07-05", "end_date": "2027-07-05", "reason": "Independence Day (observed)"}],
    )
    response = admin_site.post("/admin/locations/location/add/", data)
    assert response.status_code == 302
    location = Location.objects.get()
    assert location.hours.count() == 2
    assert location.closures.count() == 1


def test_the_admin_refuses_a_bad_time_zone_on_the_form(admin_site: Client) -> None:
    response = admin_site.post("/admin/locations/location/add/", _location_form([], timezone="Chicago"))
    assert response.status_code == 200
    assert "is not an IANA time zone" in response.content.decode()
    assert not Location.objects.exists()


def test_the_admin_refuses_overlapping_hours_on_the_form(admin_site: Client) -> None:
    data = _location_form([(0, "08:00", "17:00"), (0, "12:00", "18:00")])
    response = admin_site.post("/admin/locations/location/add/", data)
    assert response.status_code == 200
    assert "Overlaps 08:00-17:00 on the same day." in response.content.decode()
    assert not OpeningHours.objects.exists()


def test_the_admin_refuses_hours_that_close_before_they_open(admin_site: Client) -> None:
    response = admin_site.post("/admin/locations/location/add/", _location_form([(2, "17:00", "08:00")]))
    assert response.status_code == 200
    assert "Closing time must be after opening time." in response.content.decode()
    assert not Location.objects.exists()


def test_the_admin_refuses_a_closure_ending_before_it_starts(admin_site: Client) -> None:
    closure = {"start_date": "2027-07-09", "end_date": "2027-07-05", "reason": "Renovation"}
    response = admin_site.post("/admin/locations/location/add/", _location_form([], [closure]))
    assert response.status_code == 200
    assert "must not end before it starts" in response.content.decode()
    assert not Closure.objects.exists()


def test_the_admin_changes_an_existing_location(admin_site: Client) -> None:
    location = LocationFactory()
    data = _location_form([(1, "09:00", "15:00")], name="Renamed clinic")
    response = admin_site.post(f"/admin/locations/location/{location.pk}/change/", data)
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.name == "Renamed clinic"
    assert list(location.hours.values_list("weekday", flat=True)) == [1]


def test_the_admin_saves_a_surgeon_working_at_two_locations(admin_site: Client) -> None:
    first, second = LocationFactory(), LocationFactory()
    time_off = [
        {
            "start_0": "2027-03-01",
            "start_1": "08:00",
            "end_0": "2027-03-05",
            "end_1": "17:00",
            "reason": "Conference",
        }
    ]
    data = _surgeon_form([_block(first, 0), _block(second, 1)], time_off)
    response = admin_site.post("/admin/locations/surgeon/add/", data)
    assert response.status_code == 302
    surgeon = Surgeon.objects.get()
    assert surgeon.blocks.count() == 2
    assert TimeOff.objects.filter(surgeon=surgeon).count() == 1


def test_the_admin_refuses_two_blocks_at_once_on_the_surgeon_form(admin_site: Client) -> None:
    first, second = LocationFactory(), LocationFactory()
    data = _surgeon_form([_block(first, 0, "08:00", "12:00"), _block(second, 0, "11:00", "15:00")])
    response = admin_site.post("/admin/locations/surgeon/add/", data)
    assert response.status_code == 200
    assert "Overlaps the block 08:00-12:00" in response.content.decode()
    assert not Surgeon.objects.exists()


def test_the_admin_refuses_a_block_ending_before_it_starts(admin_site: Client) -> None:
    data = _surgeon_form([_block(LocationFactory(), 0, "12:00", "08:00")])
    response = admin_site.post("/admin/locations/surgeon/add/", data)
    assert response.status_code == 200
    assert "The block must end after it starts." in response.content.decode()
    assert not Block.objects.exists()


def test_the_admin_refuses_a_release_horizon_beyond_a_year(admin_site: Client) -> None:
    block = {**_block(LocationFactory()), "release_hours_before": str(24 * 365 + 1)}
    response = admin_site.post("/admin/locations/surgeon/add/", _surgeon_form([block]))
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 8760." in response.content.decode()
    assert not Block.objects.exists()


def test_the_surgeon_page_ends_a_block_at_a_location_since_deactivated(admin_site: Client) -> None:
    block = BlockFactory(weekday=0, start="08:00", end="12:00", valid_from="2027-01-01")
    Location.objects.filter(pk=block.location_id).update(is_active=False)
    data = _surgeon_form([{**_block(block.location), "id": str(block.pk), "valid_until": "2027-06-30"}])
    data["blocks-INITIAL_FORMS"] = "1"
    response = admin_site.post(f"/admin/locations/surgeon/{block.surgeon_id}/change/", data)
    assert response.status_code == 302
    block.refresh_from_db()
    assert str(block.valid_until) == "2027-06-30"


def test_the_admin_refuses_time_off_ending_before_it_starts(admin_site: Client) -> None:
    time_off = [
        {"start_0": "2027-03-05", "start_1": "08:00", "end_0": "2027-03-01", "end_1": "08:00", "reason": "x"}
    ]
    response = admin_site.post("/admin/locations/surgeon/add/", _surgeon_form([], time_off))
    assert response.status_code == 200
    assert "Time off must end after it starts." in response.content.decode()
    assert not TimeOff.objects.exists()


def test_the_block_page_refuses_a_block_overlapping_one_at_another_location(admin_site: Client) -> None:
    existing = BlockFactory(weekday=3, start="08:00", end="12:00", valid_from="2027-01-01")
    data = {"surgeon": str(existing.surgeon_id), **_block(LocationFactory(), 3, "10:00", "14:00")}
    response = admin_site.post("/admin/locations/block/add/", data)
    assert response.status_code == 200
    assert "The surgeon already works Thursday 08:00-12:00" in response.content.decode()
    assert Block.objects.count() == 1


def test_the_block_page_saves_a_block_that_fits(admin_site: Client) -> None:
    existing = BlockFactory(weekday=3, start="08:00", end="12:00", valid_from="2027-01-01")
    data = {"surgeon": str(existing.surgeon_id), **_block(LocationFactory(), 3, "12:00", "16:00")}
    assert admin_site.post("/admin/locations/block/add/", data).status_code == 302
    assert Block.objects.count() == 2


@pytest.mark.parametrize(
    "url",
    [
        "/admin/locations/location/",
        "/admin/locations/location/?is_active__exact=1&q=Clinic",
        "/admin/locations/surgeon/?is_active__exact=1&q=Dr",
        "/admin/locations/block/?location__id__exact=1",
        "/admin/locations/closure/",
        "/admin/locations/timeoff/",
        "/admin/locations/openinghours/",
        "/admin/practice/appointmenttype/",
        "/admin/practice/urgencytier/",
        "/admin/locations/location/add/",
        "/admin/locations/closure/add/",
        "/admin/locations/timeoff/add/",
        "/admin/locations/block/add/",
        "/admin/locations/surgeon/add/",
    ],
)
def test_the_admin_lists_search_and_filter(admin_site: Client, url: str) -> None:
    BlockFactory()
    assert admin_site.get(url).status_code == 200


def test_the_admin_shows_a_locations_history(admin_site: Client) -> None:
    location = LocationFactory()
    response = admin_site.get(f"/admin/locations/location/{location.pk}/history/")
    assert response.status_code == 200


def test_a_scheduler_cannot_use_the_admin(scheduler: User) -> None:
    client = Client()
    client.force_login(scheduler)
    assert client.get("/admin/locations/location/").status_code == 302


def test_the_closure_page_refuses_part_day_times_without_an_end(admin_site: Client) -> None:
    location = LocationFactory()
    data = {
        "location": str(location.pk),
        "start_date": "2027-02-01",
        "end_date": "2027-02-01",
        "start_time": "12:00",
        "reason": "Training",
    }
    response = admin_site.post("/admin/locations/closure/add/", data)
    assert response.status_code == 200
    assert "Give both start and end times" in response.content.decode()
    assert not Closure.objects.exists()


def test_the_surgeon_page_refuses_a_block_clashing_with_one_saved_since_it_was_opened(
    admin_site: Client,
) -> None:
    surgeon = SurgeonFactory(first_name="Maya", last_name="Okafor", display_name="Dr. Maya Okafor")
    BlockFactory(surgeon=surgeon, weekday=0, start="08:00", end="12:00", valid_from="2027-01-01")
    # The page was opened before that block existed: it posts no initial forms, one new block.
    data = _surgeon_form([_block(LocationFactory(), 0, "10:00", "14:00")])
    response = admin_site.post(f"/admin/locations/surgeon/{surgeon.pk}/change/", data)
    assert response.status_code == 200
    assert "Overlaps the block 08:00-12:00" in response.content.decode()
    assert surgeon.blocks.count() == 1


def test_the_location_form_offers_time_zones_as_a_list_us_zones_first(admin_site: Client) -> None:
    page = admin_site.get("/admin/locations/location/add/").content.decode()
    assert '<select name="timezone"' in page
    assert page.index('<optgroup label="United States">') < page.index('<optgroup label="All time zones">')
    assert '<option value="America/Chicago">America/Chicago</option>' in page
    assert '<option value="Europe/Dublin">Europe/Dublin</option>' in page
    assert '<option value="localtime">' not in page


def test_the_location_form_saves_a_zone_chosen_from_the_list(admin_site: Client) -> None:
    response = admin_site.post(
        "/admin/locations/location/add/", _location_form([], timezone="America/Phoenix")
    )
    assert response.status_code == 302
    assert Location.objects.get().timezone == "America/Phoenix"


def test_the_location_page_shows_and_takes_hours_without_seconds(admin_site: Client) -> None:
    location = LocationFactory()
    OpeningHours.objects.create(location=location, weekday=0, opens=dt.time(8, 0), closes=dt.time(17, 30))
    page = admin_site.get(f"/admin/locations/location/{location.pk}/change/").content.decode()
    assert 'name="hours-0-opens" value="08:00"' in page
    assert 'name="hours-0-closes" value="17:30"' in page
    assert "08:00:00" not in page
    assert "17:30:00" not in page


def test_the_surgeon_page_shows_blocks_without_seconds(admin_site: Client) -> None:
    block = BlockFactory(start=dt.time(7, 30), end=dt.time(12, 0))
    page = admin_site.get(f"/admin/locations/surgeon/{block.surgeon_id}/change/").content.decode()
    assert 'name="blocks-0-start" value="07:30"' in page
    assert 'name="blocks-0-end" value="12:00"' in page
    assert "07:30:00" not in page


def test_the_block_list_shows_times_without_seconds(admin_site: Client) -> None:
    BlockFactory(start=dt.time(7, 30), end=dt.time(12, 0))
    page = admin_site.get("/admin/locations/block/").content.decode()
    assert "07:30" in page
    assert "7:30 a.m." not in page


def test_the_surgeon_page_shows_specialties_as_a_comma_separated_line(admin_site: Client) -> None:
    surgeon = SurgeonFactory(specialties=["cervical spine", "scoliosis"])
    page = admin_site.get(f"/admin/locations/surgeon/{surgeon.pk}/change/").content.decode()
    assert 'name="specialties" value="cervical spine, scoliosis"' in page
    assert "[&quot;" not in page


def test_the_surgeon_page_saves_specialties_trimmed_without_empties(admin_site: Client) -> None:
    data = {**_surgeon_form([]), "specialties": " cervical spine, ,scoliosis , "}
    assert admin_site.post("/admin/locations/surgeon/add/", data).status_code == 302
    assert Surgeon.objects.get().specialties == ["cervical spine", "scoliosis"]


def test_the_surgeon_page_saves_no_specialties_as_an_empty_list(admin_site: Client) -> None:
    data = {**_surgeon_form([]), "specialties": ""}
    assert admin_site.post("/admin/locations/surgeon/add/", data).status_code == 302
    assert Surgeon.objects.get().specialties == []


@override_settings(SMS_DEFAULT_TIMEZONE="America/Chicago")
def test_time_off_is_entered_and_shown_on_the_practices_home_clock(admin_site: Client) -> None:
    time_off = [
        {
            "start_0": "2027-03-01",
            "start_1": "08:00",
            "end_0": "2027-03-01",
            "end_1": "12:00",
            "reason": "Dentist",
        }
    ]
    assert admin_site.post("/admin/locations/surgeon/add/", _surgeon_form([], time_off)).status_code == 302
    row = TimeOff.objects.get()
    assert row.start == dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
    page = admin_site.get("/admin/locations/timeoff/").content.decode()
    assert "2027-03-01 08:00 CST (UTC-06:00)" in page
    page = admin_site.get(f"/admin/locations/surgeon/{row.surgeon_id}/change/").content.decode()
    assert 'name="time_off-0-start_1" value="08:00"' in page
