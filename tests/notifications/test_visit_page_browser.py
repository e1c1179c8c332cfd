"""The visit page in a real browser (Debian's Chromium, headless) on a phone-sized window: a
patient opens the link, gives their date of birth, picks another time and sees it confirmed.

`make test` installs chromium and chromium-driver when they are missing. The screenshots are kept
in the temporary folder, for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from booking.models import Appointment, AppointmentStatus
from booking.selectors import slot_is_free
from booking.services import appointment_book
from notifications.visit_links import visit_link_token
from tests.browser import SCREENSHOTS, chromium
from tests.factories import AppointmentTypeFactory, PatientFactory, tier
from tests.notifications.conftest import clinic

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = (390, 844)  # a common phone's CSS pixels


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium(width=PHONE[0], height=PHONE[1]) as driver:
        yield driver


def _shoot(browser: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(PHONE[0], max(PHONE[1], height + 100))
    browser.save_screenshot(str(SCREENSHOTS / f"self-service-{name}.png"))
    browser.set_window_size(*PHONE)
    print(f"screenshot: {SCREENSHOTS / f'self-service-{name}.png'}")


def _fits_the_phone(browser: Any) -> bool:
    scroll_width, inner_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    return bool(scroll_width <= inner_width)


def test_a_patient_moves_their_visit_from_the_link_on_a_phone(browser: Any, live_server: Any) -> None:
    location, surgeon = clinic(name="Lakeview Clinic")
    location.address = "400 N Lake Shore Dr, Chicago, IL 60611"
    location.save()
    chicago = zoneinfo.ZoneInfo(location.timezone)
    day = timezone.now().astimezone(chicago).date() + dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(10), tzinfo=chicago)
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit = appointment_book(
            patient=PatientFactory(first_name="Rosa", last_name="Delgado"),
            surgeon=surgeon,
            location=location,
            appointment_type=AppointmentTypeFactory(),
            tier=tier("standard"),
            start=start,
            reason="Suspected cauda equina",
        )

    browser.get(f"{live_server.url}/v/{visit_link_token(appointment=visit)}")
    assert "Lakeview Clinic" in browser.page_source
    assert "Delgado" not in browser.page_source
    _shoot(browser, "1-birth-date")
    browser.find_element(By.ID, "id_day").send_keys("17")
    Select(browser.find_element(By.ID, "id_month")).select_by_value("5")
    browser.find_element(By.ID, "id_year").send_keys("1970")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    WebDriverWait(browser, 10).until(lambda driver: "Pick another time" in driver.page_source)
    assert _fits_the_phone(browser)
    _shoot(browser, "2-visit")
    browser.find_element(By.LINK_TEXT, "Pick another time").click()

    WebDriverWait(browser, 10).until(lambda driver: driver.find_elements(By.NAME, "slot"))
    assert _fits_the_phone(browser)
    _shoot(browser, "3-times")
    choice = browser.find_elements(By.CSS_SELECTOR, ".choice label")[1]
    chosen = browser.find_element(By.ID, choice.get_attribute("for")).get_attribute("value")
    choice.click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    WebDriverWait(browser, 10).until(lambda driver: "your visit has moved" in driver.page_source)
    assert _fits_the_phone(browser)
    _shoot(browser, "4-moved")

    visit.refresh_from_db()
    moved = Appointment.objects.get(rescheduled_from=visit)
    assert visit.status == AppointmentStatus.CANCELLED
    assert moved.status == AppointmentStatus.BOOKED
    assert int(moved.start.timestamp()) == int(chosen.split("@")[1])
    assert slot_is_free(
        appointment_type=visit.appointment_type,
        tier=visit.tier,
        surgeon_id=surgeon.pk,
        location_id=location.pk,
        start=visit.start,
    )
