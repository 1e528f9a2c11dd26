"""Fixtures for the real-browser test: the embedded stack in a subprocess, headless Chromium,
and a small driver helper that clicks and types like a user (Dash 4 components).

``IRIS_E2E_DASHBOARD_URL`` (and optionally ``IRIS_E2E_API_URL``) point the tests at a stack that
is already running instead of launching one — handy while developing a page.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import chrome
from tests.support.launcher import start_launcher, stop

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
STACK_START_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class Stack:
    dashboard_url: str
    api_url: str
    log_dir: Path | None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole product (DynamoDB Local, stream runner, model_api, dashboard) on free ports."""
    if os.environ.get("IRIS_E2E_DASHBOARD_URL"):
        yield Stack(
            os.environ["IRIS_E2E_DASHBOARD_URL"].rstrip("/"),
            os.environ.get("IRIS_E2E_API_URL", "http://127.0.0.1:8000").rstrip("/"),
            None,
        )
        return
    from infra.local.dynamodb_local import free_port

    data_dir = tmp_path_factory.mktemp("stack")
    ports = {name: str(free_port()) for name in ("IRIS_AWS_PORT", "IRIS_API_PORT", "IRIS_UI_PORT")}
    process, _, log_path = start_launcher(data_dir, ports)
    dashboard = f"http://127.0.0.1:{ports['IRIS_UI_PORT']}"
    api = f"http://127.0.0.1:{ports['IRIS_API_PORT']}"
    try:
        deadline = time.monotonic() + STACK_START_TIMEOUT_S
        while not (_answers(f"{dashboard}/") and _answers(f"{api}/health/ready")):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the stack did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)
        yield Stack(dashboard, api, data_dir / "logs")
    finally:
        stop(process)


@pytest.fixture
def driver() -> Iterator[Any]:
    """A fresh headless Chromium (its own profile directory) per test."""
    with tempfile.TemporaryDirectory(prefix="iris-chromium-") as profile:
        browser = chrome(profile, console_log=True)
        browser.set_page_load_timeout(60)
        try:
            yield browser
        finally:
            browser.quit()


class Ui:
    """What a user does, in Selenium terms, with waits instead of sleeps."""

    def __init__(self, driver: Any, base_url: str) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.d = driver
        self.base_url = base_url
        self._wait = WebDriverWait

    def wait_for(self, condition: Callable[[Any], Any], timeout: float = 30, what: str = "") -> Any:
        from selenium.common.exceptions import StaleElementReferenceException

        def safe(driver: Any) -> Any:
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False

        return self._wait(self.d, timeout, poll_frequency=0.25).until(safe, message=what)

    def go(self, path: str) -> None:
        """Navigate with the navbar like a user (falls back to the URL for the first page)."""
        from selenium.webdriver.common.by import By

        links = self.d.find_elements(By.CSS_SELECTOR, f"nav a.nav-link[href='{path}']")
        if links:
            links[0].click()
        else:
            self.d.get(self.base_url + path)
        self.wait_for(
            lambda d: d.execute_script("return window.location.pathname") == path,
            what=f"navigate to {path}",
        )

    def el(self, element_id: str, timeout: float = 30) -> Any:
        from selenium.webdriver.common.by import By

        # A pattern-matching Dash id is JSON (quotes), which WebDriver's id-as-CSS cannot hold.
        by, value = (
            (By.XPATH, f"//*[@id='{element_id}']") if '"' in element_id else (By.ID, element_id)
        )
        return self.wait_for(lambda d: d.find_element(by, value), timeout, f"#{element_id} present")

    def text(self, element_id: str) -> str:
        """The element's text now; re-finds it when Dash re-rendered it between find and read."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        for _ in range(5):
            found = self.d.find_elements(By.ID, element_id)
            try:
                return found[0].text if found else ""
            except StaleElementReferenceException:
                continue
        return ""

    def text_of_css(self, selector: str) -> str:
        """The text of the first element matching a CSS selector ('' if none)."""
        return self.d.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector
        )

    def grid_column(self, grid_id: str, column: str) -> list[str]:
        """One column of an AG Grid's rendered rows, top to bottom (the DOM order of AG Grid's
        rows is not their order on screen: sort by ``row-index``)."""
        return self.d.execute_script(
            """const rows = Array.from(document.querySelectorAll(
                   '#' + arguments[0] + ' .ag-center-cols-container .ag-row[row-index]'));
               rows.sort((a, b) => a.getAttribute('row-index') - b.getAttribute('row-index'));
               return rows.map(r => {
                   const c = r.querySelector('[col-id="' + arguments[1] + '"]');
                   return c ? c.innerText.trim() : '';
               });""",
            grid_id,
            column,
        )

    def wait_text(
        self, element_id: str, predicate: Callable[[str], bool], timeout: float = 30, what: str = ""
    ) -> str:
        return self.wait_for(
            lambda d: (t := self.text(element_id)) and predicate(t) and t,
            timeout,
            what or f"text of #{element_id}",
        )

    def click(self, element_id: str) -> None:
        element = self.el(element_id)
        self.wait_for(lambda _d: element.is_enabled(), what=f"#{element_id} enabled")
        self.click_element(element)

    def click_element(self, element: Any, block: str = "center") -> None:
        """Scroll the element to the middle of the window (clear of the sticky navbar) and click
        once it stopped moving (alerts fading out shift the layout)."""
        from selenium.common.exceptions import ElementClickInterceptedException

        last: list[Any] = [None]

        def settled(_d: Any) -> bool:
            self.d.execute_script(
                f"arguments[0].scrollIntoView({{block: '{block}', behavior: 'instant'}});", element
            )
            where = self.d.execute_script(
                "const r = arguments[0].getBoundingClientRect(); return [r.top, r.left];", element
            )
            still, last[0] = where == last[0], where
            return still

        for attempt in range(3):
            self.wait_for(settled, 10, "element stopped moving")
            try:
                element.click()
                return
            except ElementClickInterceptedException:
                if attempt == 2:
                    raise

    def type_into(self, element_id: str, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        element = self.el(element_id)
        self.d.execute_script(
            "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
        )
        element.click()
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.DELETE)
        element.send_keys(text)
        element.send_keys(Keys.TAB)  # debounced inputs commit on blur

    def dropdown_value(self, element_id: str) -> str:
        from selenium.webdriver.common.by import By

        found = self.d.find_elements(By.CSS_SELECTOR, f"#{element_id} .dash-dropdown-value")
        return found[0].text if found else ""

    def choose(self, element_id: str, label_part: str) -> None:
        """Open a Dash 4 dropdown with the mouse, type into its search box, click the option."""
        from selenium.webdriver.common.by import By

        self.click(element_id)
        searches = [
            s
            for s in self.d.find_elements(By.CSS_SELECTOR, "input.dash-dropdown-search")
            if s.is_displayed()
        ]
        if searches:
            searches[0].send_keys(label_part)
        option = self.wait_for(
            lambda d: next(
                (
                    o
                    for o in d.find_elements(By.CSS_SELECTOR, "[role=option]")
                    if o.is_displayed() and label_part in o.text
                ),
                None,
            ),
            what=f"option {label_part!r} of #{element_id}",
        )
        self.click_element(option, block="nearest")
        if self.d.find_elements(By.CSS_SELECTOR, f"#{element_id}[aria-expanded=true]"):
            from selenium.webdriver.common.keys import Keys

            self.d.switch_to.active_element.send_keys(Keys.ESCAPE)
        self.wait_for(
            lambda d: not d.find_elements(By.CSS_SELECTOR, "[role=option]"),
            what=f"#{element_id} closed",
        )
        self.wait_for(
            lambda _d: label_part.strip() in self.dropdown_value(element_id),
            what=f"#{element_id} shows {label_part!r}",
        )

    def idle(self, timeout: float = 60) -> None:
        """Wait until Dash has no callback in flight (its loading attributes are gone)."""
        from selenium.webdriver.common.by import By

        self.wait_for(
            lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading]"),
            timeout,
            "callbacks finished",
        )

    def screenshot(self, name: str) -> Path:
        """A full-page PNG (beyond the viewport) into artifacts/screenshots/."""
        import base64

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.d.execute_script(
            "window.scrollTo({top: 0, behavior: 'instant'});"
        )  # the sticky navbar then sits on top
        shot = self.d.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def severe_console_errors(self) -> list[str]:
        """Browser console errors (a Dash callback error shows up here)."""
        return [e["message"] for e in self.d.get_log("browser") if e["level"] == "SEVERE"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's outcome on the test item (the ``ui`` fixture reads it)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def ui(driver: Any, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Ui]:
    helper = Ui(driver, stack.dashboard_url)
    yield helper
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:  # the page as it was when the test failed
        with contextlib.suppress(Exception):
            helper.screenshot(f"FAILED-{request.node.name}")
