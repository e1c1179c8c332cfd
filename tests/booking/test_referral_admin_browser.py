"""The referral list in the admin, in a real browser (Debian's Chromium, headless): arrival and
due date on the clinic's clock, the list fitting a 1280-pixel window. The screenshot is kept in
the temporary folder, for a person to look at."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from booking.services import referral_create
from tests.browser import SCREENSHOTS
from tests.factories import AppointmentTypeFactory, LocationFactory, PatientFactory, tier
from tests.locations.test_admin_browser import WIDTH, _log_in, browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_referral_list_shows_arrival_and_due_date_on_the_clinics_clock(
    browser: Any,  # noqa: F811 - the fixture imported above
    live_server: Any,
) -> None:
    clinic = LocationFactory(name="Lakeside Spine Naperville", timezone="America/Chicago")
    referral_create(
        patient=PatientFactory(first_name="Maria", last_name="Lopez"),
        tier=tier("urgent"),
        appointment_type=AppointmentTypeFactory(),
        received_at=dt.datetime(2027, 3, 12, 15, 0, tzinfo=dt.UTC),
        preferred_location=clinic,
        source="Dr. Okafor",
        now=dt.datetime(2027, 3, 13, tzinfo=dt.UTC),
    )
    _log_in(browser, live_server.url)

    browser.get(f"{live_server.url}/admin/booking/referral/")
    SCREENSHOTS.mkdir(exist_ok=True)
    screenshot = SCREENSHOTS / "referral-list.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")

    row = browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr")
    # Received on Friday 12 March before the spring change (CST); due at the end of Monday 15th (CDT).
    assert row.find_element(By.CSS_SELECTOR, ".field-received").text == "2027-03-12 09:00 CST (UTC-06:00)"
    assert row.find_element(By.CSS_SELECTOR, ".field-due").text == "2027-03-16 00:00 CDT (UTC-05:00)"
    assert "Maria Lopez" in row.text
    scroll_width, inner_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width == WIDTH
    # The list itself fits its box: no column is hidden behind a scroll bar.
    overflow = browser.execute_script(
        "const box = document.querySelector('#changelist .results');return box.scrollWidth - box.clientWidth;"
    )
    assert overflow <= 0
