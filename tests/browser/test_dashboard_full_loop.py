"""The whole loop with mouse and keyboard in a real headless Chromium, against the embedded stack:
upload → explore → train → score → test with flipped labels → retrain candidates on Monitoring
→ the Retrain page.

Every page is saved as a PNG in artifacts/screenshots/ (CI keeps them as artifacts).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.bundled import BUNDLED_CSV

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPECIES = ("setosa", "versicolor", "virginica")
TRAIN_TIMEOUT_S = 300
STREAM_TIMEOUT_S = 180


def _number(text: str) -> float:
    match = re.search(r"[-+]?\d+(?:\.\d+)?", text)
    assert match, f"no number in {text!r}"
    return float(match.group())


def score_input(name: str) -> str:
    """The DOM id Dash gives the Score form's pattern-matched input ``name`` (built from the
    API's schema)."""
    return json.dumps({"name": name, "type": "score-in"}, separators=(",", ":"))


def page_done(ui: Any, name: str) -> None:
    """A page's step is done: its screenshot kept, and no severe error in the browser console."""
    ui.screenshot(name)
    assert not ui.severe_console_errors(), "the page raised errors in the browser"


def test_full_loop_in_the_browser(ui) -> None:
    from selenium.webdriver.common.by import By

    d = ui.d
    d.get(ui.base_url + "/")
    ui.wait_text("api-status", lambda t: "API ready" in t, what="navbar shows the API ready")
    ui.wait_text("home-kpis", lambda t: "DATA SETS" in t.upper())
    page_done(ui, "00-overview")

    # --- Data: upload the bundled CSV through the drop zone's file input ---------------------
    ui.go("/data")
    ui.wait_for(lambda _d: ui.dropdown_value("data-dataset"), what="data sets listed")
    file_input = ui.wait_for(
        lambda d: d.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]")
    )
    file_input.send_keys(str(BUNDLED_CSV))
    alert = ui.wait_text("data-alert", lambda t: "Uploaded" in t, what="upload confirmed")
    dataset_id = int(re.search(r"data set #(\d+)", alert).group(1))
    ui.wait_text("data-summary-strip", lambda t: f"#{dataset_id}" in t and "1200 rows" in t)
    assert f"#{dataset_id}" in ui.dropdown_value("data-dataset")

    # the histogram follows its dropdown; the options came from the data set's columns
    ui.choose("data-hist-col", "sepal_width")
    ui.wait_for(
        lambda d: "Distribution of sepal_width" in d.find_element(By.ID, "data-hist").text,
        what="histogram redrawn for sepal_width",
    )
    ui.choose("data-x", "elevation")
    ui.wait_for(
        lambda d: "petal_width vs elevation" in d.find_element(By.ID, "data-scatter").text,
        what="scatter redrawn",
    )
    # the graphs were drawn by the vendored partial plotly.js, not plotly.py's full bundle
    scripts = d.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('plotly'))"
    )
    # loaded once, though the page starts it early and dcc.Graph asks for it too
    assert sum("vendor/plotly-iris-" in s for s in scripts) == 1, scripts
    assert not any("plotly.min.js" in s for s in scripts), scripts
    # the browser's own parseFloat and trim, not the polyfill's (U+180E is no white space now)
    builtins = d.execute_script(
        "return [String('\\u180e'.trim().length), String(parseFloat('\\u180e1')), "
        "typeof window.irisBuiltins]"
    )
    assert builtins == ["1", "NaN", "undefined"], builtins
    # AG Grid's async chunk: once, though the page starts it early and the grid asks for it too
    chunks = d.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('dash_ag_grid/async-'))"
    )
    assert len(chunks) == 1 and chunks[0].endswith("/async-community.js"), chunks
    # the grid pages through 1,200 rows, 15 a page, and sorts by a clicked header (server side)
    ui.wait_for(
        lambda d: "Page 1 of 80" in ui.text_of_css("#data-table .ag-paging-panel"),
        what="80 pages of rows",
    )
    sort = d.find_element(
        By.CSS_SELECTOR, "#data-table .ag-header-cell[col-id='elevation'] .ag-header-cell-label"
    )
    ui.click_element(sort)
    lowest = min(float(line.split(",")[1]) for line in BUNDLED_CSV.read_text().splitlines()[1:])

    def elevations(_d) -> list[float]:  # [] while the grid loads a block
        texts = ui.grid_column("data-table", "elevation")
        return [float(t) for t in texts] if texts and all(texts) else []

    ui.wait_for(
        lambda d: elevations(d) and abs(elevations(d)[0] - lowest) < 0.05,
        what="the whole data set sorted by elevation, lowest first",
    )
    values = elevations(d)
    assert len(values) == 15 and values == sorted(values)
    ui.click_element(
        d.find_element(By.CSS_SELECTOR, "#data-table .ag-paging-button[data-ref=btNext]")
    )
    ui.wait_for(
        lambda d: (
            "Page 2 of 80" in ui.text_of_css("#data-table .ag-paging-panel")
            and elevations(d)
            and elevations(d)[0] >= values[-1]
        ),
        what="page 2 continues the sorted order",
    )
    assert len(elevations(d)) == 15
    page_done(ui, "01-data")

    # --- Models: create and train on the uploaded data set ---------------------------------
    ui.go("/models")
    ui.wait_for(
        lambda _d: f"#{dataset_id}" in ui.dropdown_value("models-dataset"),
        what="the tab's data set is preselected",
    )
    ui.type_into("models-epochs", "8")
    ui.type_into("models-seed", "7")
    ui.click("models-create")
    alert = ui.wait_text("models-alert", lambda t: "queued" in t)
    model_id = int(re.search(r"Model #(\d+)", alert).group(1))
    # the detail follows the new model live: training progress, then ready
    ui.wait_text(
        "model-detail-head", lambda t: t.startswith(f"#{model_id}"), what="new model shown"
    )
    ui.wait_text(
        "model-detail-head",
        lambda t: t.startswith(f"#{model_id}") and "READY" in t.upper(),
        timeout=TRAIN_TIMEOUT_S,
        what="model trained",
    )
    selected = d.find_elements(By.CSS_SELECTOR, "#models-table .ag-row-selected")
    assert len(selected) == 1 and selected[0].get_attribute("row-id") == str(model_id)
    ui.wait_for(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#model-history .scatterlayer .trace")) >= 2,
        what="loss/accuracy curves drawn",
    )
    assert "epoch 8/8" in ui.text("model-progress")
    page_done(ui, "02-models")

    # --- Score: prefilled from a row, derived features shown, then a pasted CSV line -------
    ui.go("/score")
    ui.wait_for(
        lambda _d: f"#{model_id}" in ui.dropdown_value("score-model"),
        what="the trained model is preselected",
    )
    ui.wait_for(
        lambda d: ui.el(score_input("sepal_length")).get_attribute("value"),
        what="form prefilled from row 0",
    )
    derived_rows = ui.wait_for(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#score-derived-table tr")
    )
    assert len(derived_rows) == 11
    ui.type_into(score_input("petal_length"), "1.5")
    ui.wait_for(lambda _d: "sepal_petal_length_diff" in ui.text("score-derived"))
    ui.click("score-submit")
    predicted = ui.wait_text("score-predicted", lambda t: t.lower() in SPECIES, what="a class")
    assert predicted.lower() == "setosa", "row 0 is a setosa and the model is ~95% accurate"
    line = BUNDLED_CSV.read_text().splitlines()[601]  # a versicolor row, label included
    ui.type_into("score-csv", line)
    ui.click("score-csv-submit")
    ui.wait_text("score-result", lambda t: "pasted CSV line" in t, what="CSV line scored")
    page_done(ui, "03-score")

    # a bad line is an alert, and the page stays usable
    ui.type_into("score-csv", "1,2,3")
    ui.click("score-csv-submit")
    ui.wait_text("score-result", lambda t: "Expected 20" in t, what="validation alert")

    # --- Test: flip a fifth of the labels to provoke the flagger ----------------------------
    ui.go("/test")
    ui.wait_for(lambda _d: f"#{model_id}" in ui.dropdown_value("test-model"))
    ui.choose("test-dataset", f"#{dataset_id} ")
    ui.type_into("test-flip", "0.2")
    ui.type_into("test-seed", "11")
    ui.click("test-run")
    accuracy = ui.wait_text("test-accuracy", lambda t: "%" in t, timeout=120, what="test result")
    assert _number(accuracy) < 90, "a fifth of the labels flipped must cost accuracy"
    # the result may re-render once more (its grid and figure mount): wait, do not just read
    run_id = ui.wait_text("test-run-id", bool, what="the run's id shown")
    heat = d.find_elements(By.CSS_SELECTOR, "#test-confusion .heatmaplayer, #test-confusion .hm")
    assert heat, "confusion heat map drawn"
    assert len(ui.grid_column("test-per-class", "class")) == 3
    ui.wait_text(
        "test-logging-text",
        lambda t: t.startswith("1200/1200"),
        timeout=120,
        what="all records written to the score table",
    )
    page_done(ui, "04-test")

    # --- Monitoring: the flagger's candidates arrive while the page refreshes itself --------
    ui.go("/monitoring")
    ui.wait_for(lambda _d: run_id in ui.dropdown_value("mon-run"), what="the tab's run selected")
    ui.wait_text("mon-records-count", lambda t: t.startswith("1200/"), timeout=STREAM_TIMEOUT_S)
    count = ui.wait_text(
        "mon-candidates-count",
        lambda t: _number(t) >= 200,
        timeout=STREAM_TIMEOUT_S,
        what="flagged records arrived",
    )
    assert _number(count) <= 1200
    ui.wait_for(
        lambda _d: ui.grid_column("mon-records", "row") == [str(i) for i in range(10)],
        what="the first page of the run's score records",
    )
    ui.wait_for(
        lambda d: "misclassified" in d.find_element(By.ID, "mon-candidates").text,
        what="candidates table lists misclassified rows",
    )
    ui.wait_for(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#mon-runs-graph .scatterlayer .trace"),
        what="runs over time drawn",
    )
    page_done(ui, "05-monitoring")

    # --- Close the loop: the run opens on the Retrain page, its candidates triaged ----------
    ui.click("mon-retrain-link")
    ui.wait_for(
        lambda d: d.execute_script("return window.location.pathname") == "/retrain",
        what="the Retrain page",
    )
    ui.wait_for(lambda _d: run_id in ui.dropdown_value("rt-run"), what="the run carried over")
    summary = ui.wait_text("rt-summary-text", lambda t: "candidates" in t, STREAM_TIMEOUT_S)
    assert "label error" in summary
    page_done(ui, "06-retrain-from-monitoring")
