"""The browser tests' fixtures: a headless Chromium per module (skipped, naming the make
target, where Debian's Chromium or chromedriver is not installed)."""

from collections.abc import Iterator

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.browser.chromium import chromium, console_errors, missing


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    why = missing()
    if why:
        pytest.skip(why)
    with chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


@pytest.fixture
def page(browser: WebDriver) -> Iterator[WebDriver]:
    """The module's browser, its console emptied before the test: what the test leaves in
    it is the test's own (`console_errors`)."""
    console_errors(browser)
    yield browser
