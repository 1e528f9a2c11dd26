"""Two browser tabs keep their own selections: per-user state lives in the tab, not the server."""

from __future__ import annotations

import re

import pytest

from tests.support.bundled import BUNDLED_CSV

pytestmark = pytest.mark.browser


def test_two_tabs_do_not_share_their_data_set_choice(ui) -> None:
    from selenium.webdriver.common.by import By

    d = ui.d
    d.get(ui.base_url + "/data")
    # Data set labels start with "#<id>"; anything else is the dropdown's placeholder.
    first_choice = ui.wait_for(
        lambda _d: (v := ui.dropdown_value("data-dataset")).startswith("#") and v, what="a data set"
    )
    first_tab = d.current_window_handle

    d.switch_to.new_window("tab")  # a second tab of the same browser (same cookies)
    d.get(ui.base_url + "/data")
    ui.wait_for(
        lambda _d: ui.dropdown_value("data-dataset").startswith("#"), what="data sets listed"
    )
    d.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]").send_keys(str(BUNDLED_CSV))
    alert = ui.wait_text("data-alert", lambda t: "Uploaded" in t)
    new_id = int(re.search(r"data set #(\d+)", alert).group(1))
    ui.go("/models")
    ui.wait_for(
        lambda _d: f"#{new_id} " in ui.dropdown_value("models-dataset"),
        what="second tab: its upload preselected",
    )

    d.switch_to.window(first_tab)
    ui.go("/models")
    ui.wait_for(
        lambda _d: ui.dropdown_value("models-dataset").startswith("#"),
        what="first tab: a data set",
    )
    assert ui.dropdown_value("models-dataset") == first_choice
    assert not ui.severe_console_errors()
