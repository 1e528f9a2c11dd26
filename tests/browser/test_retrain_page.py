"""The Retrain page in a real headless Chromium, through promotion: triaged candidates →
accept the label-error suggestions → retrain (a server-side job, progress shown) → compare on a
held-out data set → promote → lineage. Set-up (data, model, a noisy run) goes through the API;
everything after that is clicks, and the outcome is checked against the API."""

from __future__ import annotations

import io
import random
from typing import Any

import httpx
import pandas as pd
import pytest
from model_api.datasets.store import bundled_csv

from tests.support.waits import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SPECIES = ("setosa", "versicolor", "virginica")


def _set_up(api: httpx.Client) -> dict[str, Any]:
    df = pd.read_csv(io.BytesIO(bundled_csv()))
    hold = df.groupby("species", group_keys=False).sample(frac=0.2, random_state=2)
    train = df.drop(hold.index).reset_index(drop=True)
    noisy = train.copy()
    rng = random.Random(4)
    for i in rng.sample(range(len(train)), len(train) // 10):
        noisy.loc[i, "species"] = rng.choice([s for s in SPECIES if s != train.loc[i, "species"]])

    def upload(frame: pd.DataFrame, name: str) -> int:
        r = api.post("/api/datasets", data={"csv": frame.to_csv(index=False), "name": name})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    ids = {"A": upload(train, "rt-A"), "H": upload(hold, "rt-H"), "N": upload(noisy, "rt-noisy")}
    model = api.post("/api/models", json={"dataset_id": ids["A"], "seed": 3}).json()
    wait_for(
        lambda: api.get(f"/api/models/{model['id']}").json()["status"] == "ready", 300, "training"
    )
    run = api.post(f"/api/models/{model['id']}/tests", json={"dataset_id": ids["N"]}).json()
    expected = sum(
        a != p or q < 0.9
        for a, p, q in zip(run["actual"], run["predicted"], run["probability"], strict=True)
    )

    def flagged() -> bool:
        page = api.get("/api/retrain", params={"run_id": run["run_id"], "limit": 1000}).json()
        return len(page["items"]) >= expected

    wait_for(flagged, 180, "the flagger's copies")
    return {"ids": ids, "model_id": model["id"], "run": run}


def test_retrain_page_through_promotion(ui, stack) -> None:
    from selenium.webdriver.common.by import By

    with httpx.Client(base_url=stack.api_url, timeout=60) as api:
        setup = _set_up(api)
        run_id, model_id = setup["run"]["run_id"], setup["model_id"]
        ui.d.get(f"{ui.base_url}/retrain?run_id={run_id}")
        ui.wait_text("rt-summary-text", lambda t: "candidates" in t, 60, "the triaged candidates")
        assert run_id in ui.dropdown_value("rt-run")
        ui.wait_for(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#rt-grid .ag-row")) > 0,
            what="candidate rows in the grid",
        )
        ui.screenshot("20-retrain-candidates")

        # filter to label errors; accept every suggestion
        ui.choose("rt-cause", "label error")
        ui.wait_for(
            lambda d: all(
                c.text == "label error"
                for c in d.find_elements(By.CSS_SELECTOR, "#rt-grid .ag-row [col-id=cause]")
            ),
            what="only label errors shown",
        )
        ui.click("rt-accept")
        ui.wait_text("rt-review-alert", lambda t: "Accepted" in t, what="suggestions accepted")
        label_errors = api.get(
            "/api/retrain", params={"run_id": run_id, "cause": "label_error", "limit": 1000}
        ).json()["items"]
        assert label_errors and all(i["review"]["decision"] == "relabel" for i in label_errors)

        # launch a retraining on the reviewed candidates, follow its progress
        ui.choose("rt-base", "rt-A")
        ui.click("rt-train")
        ui.wait_text("rt-job-status", lambda t: "job" in t, what="the job shown")
        ui.wait_text("rt-job-version", lambda t: "New version 2" in t, 300, "the new version")
        ui.screenshot("21-retrain-job-done")

        # compare v1 and v2 on the held-out set
        ui.wait_for(lambda _d: "v2" in ui.dropdown_value("rt-vb"), what="version B = v2")
        ui.choose("rt-cmp-ds", "rt-H")
        ui.click("rt-compare")
        ui.wait_text("rt-cmp-b", lambda t: t.startswith("v2:"), 60, "the comparison")
        ui.wait_text("rt-fixed", lambda t: "fixed" in t)
        ui.wait_for(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#rt-comparison-result .main-svg")) >= 3,
            what="two confusion matrices and the per-class bars drawn",
        )
        ui.screenshot("22-retrain-comparison")
        cmp = api.post(
            f"/api/models/{model_id}/compare",
            json={"versions": [1, 2], "dataset_id": setup["ids"]["H"]},
        ).json()
        worse = cmp["results"]["2"]["accuracy"] < cmp["results"]["1"]["accuracy"]

        # promote v2 (forced, and recorded, if it came out worse)
        ui.wait_for(lambda _d: "v2" in ui.dropdown_value("rt-pv"), what="v2 to promote")
        if worse:
            ui.click("rt-promote")
            ui.wait_text("rt-versions-alert", lambda t: "refused" in t, what="refusal shown")
            ui.click_element(ui.el("rt-force"))
        ui.click("rt-promote")
        ui.wait_text("rt-promoted-text", lambda t: "version 2" in t, 60, "v2 promoted")
        promoted = api.get(f"/api/models/{model_id}").json()
        assert promoted["promoted_version"] == 2
        history = api.get(f"/api/models/{model_id}/versions").json()["promotions"]
        assert history[-1]["version"] == 2 and history[-1]["forced"] is worse

        # lineage one click away: click version 2's row
        row = ui.wait_for(
            lambda d: next(
                (
                    r
                    for r in d.find_elements(By.CSS_SELECTOR, "#rt-versions .ag-row")
                    if r.find_elements(By.CSS_SELECTOR, "[col-id=version]")
                    and r.find_element(By.CSS_SELECTOR, "[col-id=version]").text == "2"
                ),
                None,
            ),
            what="version 2's row",
        )
        ui.click_element(row.find_element(By.CSS_SELECTOR, "[col-id=source]"))
        ui.wait_text("rt-lineage-title", lambda t: "version 2" in t, what="the lineage")
        shown = ui.d.find_elements(By.CSS_SELECTOR, "#rt-lineage-grid .ag-row")
        assert shown, "the lineage lists the flagged records"
        ui.screenshot("23-retrain-lineage")
        assert not ui.severe_console_errors()
