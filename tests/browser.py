"""Real-browser tests: Debian's Chromium, headless, driven by Selenium. `make test` installs
chromium and chromium-driver when they are missing; screenshots go to one folder in the temporary
directory, for a person to look at."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(tempfile.gettempdir()) / "practice-screenshots"


@contextmanager
def chromium(*, width: int, height: int) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a window of `width` x `height` CSS pixels, quit on exit."""
    if not CHROMEDRIVER.exists():
        pytest.fail("No /usr/bin/chromedriver: `make test` installs chromium and chromium-driver.")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
