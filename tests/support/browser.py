"""Headless Chromium as the browser tests and the UI benchmark drive it: one options builder."""

from __future__ import annotations

import os
from typing import Any

CHROMIUM = os.environ.get("IRIS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("IRIS_CHROMEDRIVER", "/usr/bin/chromedriver")


def chrome_options(user_data_dir: str, *, console_log: bool = False) -> Any:
    """Headless, sandbox-free (root in a container), no background traffic, a fixed window, and
    its own profile directory; ``console_log`` keeps the page's console for the tests' checks."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(arg)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


def chrome(user_data_dir: str, *, console_log: bool = False) -> Any:
    """A started Chromium session through the system's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = chrome_options(user_data_dir, console_log=console_log)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
