"""The monitoring loop's steps over HTTP, shared by the embedded-stack and compose tiers.

Relabel part of the bundled data set, train, and work out from a run's own results which rows
the flagger must copy (the rule, not the flagger's code).
"""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import httpx

from tests.support.bundled import BUNDLED_CSV
from tests.support.waits import wait_for

THRESHOLD = 0.9
SPECIES = ("setosa", "versicolor", "virginica")


def relabelled_csv(share: float, seed: int) -> tuple[str, set[int]]:
    """The bundled CSV with ``share`` of its rows relabelled; also returns those rows."""
    rows = list(csv.reader(io.StringIO(BUNDLED_CSV.read_text())))
    header, body = rows[0], rows[1:]
    rng = random.Random(seed)
    changed = set(rng.sample(range(len(body)), int(len(body) * share)))
    for i in changed:
        body[i][0] = rng.choice([s for s in SPECIES if s != body[i][0]])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue(), changed


def train_model(api: httpx.Client, dataset_id: int) -> int:
    model = api.post("/api/models", json={"dataset_id": dataset_id, "seed": 7}).json()
    done = wait_for(
        lambda: (
            (m := api.get(f"/api/models/{model['id']}").json())["status"] in ("ready", "failed")
            and m
        ),
        180,
        "training",
    )
    assert done["status"] == "ready", done
    return int(model["id"])


def expected_flagged(run: dict[str, Any]) -> set[str]:
    width = 6
    return {
        str(i).zfill(width)
        for i, (actual, predicted, p) in enumerate(
            zip(run["actual"], run["predicted"], run["probability"], strict=True)
        )
        if actual != predicted or p < THRESHOLD
    }
