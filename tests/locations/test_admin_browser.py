"""The surgeon's page in a real browser (Debian's Chromium, headless): what an administrator sees.

`make test` installs chromium and chromium-driver when they are missing. The screenshot is kept
in the temporary folder, for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from practice.models import UrgencyTier
from tests.browser import SCREENSHOTS, chromium
from tests.factories import AdministratorFactory, BlockFactory, LocationFactory, SurgeonFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDTH = 1280


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium(width=WIDTH, height=1000) as driver:
        yield driver


def _log_in(browser: webdriver.Chrome, base_url: str) -> None:
    AdministratorFactory(username="alice-admin")
    browser.get(f"{base_url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("alice-admin")
    browser.find_element(By.NAME, "password").send_keys("correct horse battery staple")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda driver: driver.find_elements(By.ID, "user-tools"))


def test_the_surgeons_blocks_fit_a_1280_pixel_window_with_times_as_hh_mm(
    browser: Any, live_server: Any
) -> None:
    surgeon = SurgeonFactory(
        first_name="Maya",
        last_name="Okafor",
        display_name="Dr. Maya Okafor",
        specialties=["cervical spine", "scoliosis"],
    )
    downtown = LocationFactory(name="Lakeside Spine Chicago Downtown", timezone="America/Chicago")
    naperville = LocationFactory(name="Lakeside Spine Naperville", timezone="America/Chicago")
    tier = UrgencyTier.objects.order_by("id").first()
    BlockFactory(surgeon=surgeon, location=downtown, weekday=0, start=dt.time(7, 30), end=dt.time(12, 0))
    BlockFactory(
        surgeon=surgeon,
        location=naperville,
        weekday=2,
        start=dt.time(13, 0),
        end=dt.time(17, 45),
        valid_until=dt.date(2027, 6, 30),
        reserved_for_tier=tier,
    )
    _log_in(browser, live_server.url)

    browser.get(f"{live_server.url}/admin/locations/surgeon/{surgeon.pk}/change/")
    SCREENSHOTS.mkdir(exist_ok=True)
    screenshot = SCREENSHOTS / "surgeon-blocks.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")

    blocks = browser.find_element(By.ID, "blocks-group")
    assert blocks.is_displayed()
    scroll_width, inner_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width == WIDTH
    table = blocks.find_element(By.TAG_NAME, "table")
    header = blocks.find_element(By.TAG_NAME, "h2")
    # Within its blue header bar, not spilling past it.
    assert table.rect["x"] + table.rect["width"] <= header.rect["x"] + header.rect["width"] + 1
    starts = [
        field.get_attribute("value")
        for field in browser.find_elements(By.CSS_SELECTOR, "#blocks-group .field-start input")
    ]
    ends = [
        field.get_attribute("value")
        for field in browser.find_elements(By.CSS_SELECTOR, "#blocks-group .field-end input")
    ]
    assert starts[:2] == ["07:30", "13:00"]
    assert ends[:2] == ["12:00", "17:45"]
    specialties = browser.find_element(By.NAME, "specialties").get_attribute("value")
    assert specialties == "cervical spine, scoliosis"
