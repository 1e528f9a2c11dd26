"""Issue 10's acceptance test on the embedded stack: flagged records → triage → review →
retrain (model_api SIGKILLed mid-job, restarted, the job resumes) → fair comparison → promote.

Everything is real (DynamoDB Local, the stream runner with the real flagger, ``python -m
model_api`` with TensorFlow) and the figures are computed here: the flipped rows are chosen by
the test, accuracies come from per-row predictions compared with the test's own labels.
"""

from __future__ import annotations

import random
import signal
from typing import Any

import httpx
import pandas as pd
import pytest
from model_api.datasets.store import bundled_csv
from model_api.schema.features import FEATURE_NAMES

from tests.support.loop_kit import SPECIES, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, set[int]]:
    """Train set A (80 %), clean held-out set H (20 %), and A with 10 % of labels flipped."""
    import io

    df = pd.read_csv(io.BytesIO(bundled_csv()))
    hold = df.groupby("species", group_keys=False).sample(frac=0.2, random_state=1)
    train = df.drop(hold.index).reset_index(drop=True)
    rng = random.Random(10)
    flipped = set(rng.sample(range(len(train)), len(train) // 10))
    noisy = train.copy()
    for i in flipped:
        noisy.loc[i, "species"] = rng.choice([s for s in SPECIES if s != train.loc[i, "species"]])
    return train, hold.reset_index(drop=True), noisy, flipped


def upload(api: httpx.Client, df: pd.DataFrame, name: str) -> int:
    r = api.post(
        "/api/datasets", files={"file": (f"{name}.csv", df.to_csv(index=False), "text/csv")}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def candidates(api: httpx.Client, run_id: str, **params: Any) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        query = {
            "run_id": run_id,
            "limit": 1000,
            **params,
            **({"cursor": cursor} if cursor else {}),
        }
        page = api.get("/api/retrain", params=query)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


def accuracy(run: dict[str, Any], truth: list[str]) -> float:
    return sum(p == t for p, t in zip(run["predicted"], truth, strict=True)) / len(truth)


def restart_api(stack: Any, old: Any) -> Any:
    old.send_signal(signal.SIGKILL)
    old.wait(timeout=10)
    new = stack.spawn("model_api", "model_api")

    def ready() -> bool:
        assert new.poll() is None, (stack.data_dir / "model_api.log").read_text()[-3000:]
        try:
            return httpx.get(f"{stack.api_url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, 180, "model_api to come back")
    return new


def test_flagged_to_promoted_version_with_a_restart_mid_retraining(embedded_stack) -> None:
    stack = embedded_stack
    train, hold, noisy, flipped = frames()
    with httpx.Client(base_url=stack.api_url, timeout=60) as api:
        a, h, n = upload(api, train, "A"), upload(api, hold, "H"), upload(api, noisy, "A-noisy")
        model = api.post("/api/models", json={"dataset_id": a, "seed": 7}).json()
        mid = model["id"]
        wait_for(lambda: api.get(f"/api/models/{mid}").json()["status"] == "ready", 300, "training")
        stack.start_runner()
        run = api.post(f"/api/models/{mid}/tests", json={"dataset_id": n}).json()
        expected = {
            f"{i:06d}"
            for i, (act, pred, p) in enumerate(
                zip(run["actual"], run["predicted"], run["probability"], strict=True)
            )
            if act != pred or p < 0.9
        }
        wait_for(
            lambda: len(candidates(api, run["run_id"])) >= len(expected), 180, "the candidates"
        )
        items = candidates(api, run["run_id"])
        assert {i["sort_key"] for i in items} == expected

        # triage: the flipped rows are the label errors
        found = {i["position"] for i in items if i["suspected_cause"] == "label_error"}
        tp = len(found & flipped)
        precision, recall = tp / len(found), tp / len(flipped)
        print(
            f"\ntriage: {len(items)} candidates, {len(found)} label_error, {len(flipped)} flipped, "
            f"precision {precision:.3f}, recall {recall:.3f}"
        )
        assert precision >= 0.9 and recall >= 0.9

        r = api.post(
            "/api/retrain/reviews",
            json={"run_id": run["run_id"], "accept_suggestions": "label_error"},
        )
        assert r.status_code == 200 and r.json()["count"] == len(found)
        fixed_labels = sum(
            i["suggested_label"] == train.loc[i["position"], "species"]
            for i in items
            if i["position"] in found
        )
        print(f"suggested label = the original label for {fixed_labels} of {len(found)}")

        # retrain; kill model_api mid-job; the job resumes after the restart
        job = api.post(
            f"/api/models/{mid}/versions",
            json={"run_ids": [run["run_id"]], "base_dataset_id": a, "epochs": 120},
        ).json()
        wait_for(
            lambda: (
                (j := api.get(f"/api/jobs/{job['job_id']}").json())["status"] == "running"
                and j["progress"].get("epoch", 0) >= 2
            ),
            300,
            "the retraining to be mid-way",
            interval=0.1,
        )
        restart_api(stack, stack.children[0])
        done = wait_for(
            lambda: (
                (j := api.get(f"/api/jobs/{job['job_id']}").json())["status"]
                in ("succeeded", "failed")
                and j
            ),
            600,
            "the resumed job",
        )
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        assert any("re-queued after a restart" in e["event"] for e in done["events"])
        versions = api.get(f"/api/models/{mid}/versions").json()
        assert [v["version"] for v in versions["versions"]] == [1, 2]  # one version, not two
        v2 = versions["versions"][1]
        assert {(c["partition_key"], c["sort_key"]) for c in v2["candidates"]} == {
            (run["run_id"], f"{p:06d}") for p in found
        }

        # before / after on the clean held-out set, computed from per-row predictions
        before = api.post(f"/api/models/{mid}/tests", json={"dataset_id": h, "version": 1}).json()
        after = api.post(f"/api/models/{mid}/tests", json={"dataset_id": h, "version": 2}).json()
        truth = hold["species"].tolist()
        acc1, acc2 = accuracy(before, truth), accuracy(after, truth)
        retest = api.post(f"/api/models/{mid}/tests", json={"dataset_id": n, "version": 2}).json()
        noisy_truth = train["species"].tolist()  # the true labels of the flipped copy's rows
        print(
            f"held-out accuracy v1 {acc1:.4f} → v2 {acc2:.4f}; on the noisy copy's true labels "
            f"v1 {accuracy(run, noisy_truth):.4f} → v2 {accuracy(retest, noisy_truth):.4f}; "
            f"flagged share v1 {len(items) / run['rows']:.3f}"
        )
        assert acc2 >= acc1
        cmp = api.post(
            f"/api/models/{mid}/compare", json={"versions": [1, 2], "dataset_id": h}
        ).json()
        assert cmp["results"]["1"]["accuracy"] == pytest.approx(acc1)
        assert cmp["results"]["2"]["accuracy"] == pytest.approx(acc2)
        refused = api.post(f"/api/models/{mid}/compare", json={"versions": [1, 2], "dataset_id": n})
        assert refused.status_code == 409

        # promote; the course's score route now answers with version 2
        r = api.post(f"/api/models/{mid}/promote", json={"version": 2})
        assert r.status_code == 200, r.text
        probe = find_disagreement(api, mid, hold)
        fields = ",".join(repr(float(v)) for v in probe["values"])
        course = api.get(f"/iris/model/{mid}/score", params={"fields": fields}).text
        assert course == f"Score done, class={sorted(SPECIES).index(probe['v2'])}"


def find_disagreement(api: httpx.Client, mid: int, hold: pd.DataFrame) -> dict[str, Any]:
    """A row (held-out, or perturbed from one) on which versions 1 and 2 disagree, so the
    course route's answer tells which version it used."""
    rng = random.Random(3)
    rows = hold[list(FEATURE_NAMES)].to_numpy().tolist()
    for attempt in range(400):
        base = rows[attempt % len(rows)]
        values = base if attempt < len(rows) else [v * (1 + rng.uniform(-0.6, 0.6)) for v in base]
        answers = {}
        for version in (1, 2):
            r = api.post(
                f"/api/models/{mid}/score", params={"version": version}, json={"values": values}
            )
            answers[version] = r.json()["class_name"]
        if answers[1] != answers[2]:
            return {"values": values, "v1": answers[1], "v2": answers[2]}
    pytest.fail("versions 1 and 2 agree on every probe; the course route cannot tell them apart")
