"""The Retrain page's logic on API-shaped answers: grid rows, decisions sent, job progress,
the side-by-side comparison and promotion messages (the real API is exercised by the browser
test and tests/model_api/retrain/)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from dashboard.api import ApiClient
from dashboard.logic import retrain as rv
from dashboard.logic import retrain_versions as vv

from tests.support.ui_kit import is_error, text_of

CANDIDATE = {
    "partition_key": "20261201T000000000Z-abcd",
    "sort_key": "000007",
    "position": 7,
    "Actual": "setosa",
    "Class": "virginica",
    "probability": 0.97,
    "reasons": ["misclassified"],
    "label_quality": 0.01,
    "suspected_cause": "label_error",
    "suggested_label": "virginica",
    "suggested_decision": "relabel",
    "triage_reasons": ["cleanlab flags the label"],
    "review": {"decision": "relabel", "label": "virginica", "reviewer": "ana"},
}


def recording_client(answers: dict[tuple[str, str], Any]) -> tuple[ApiClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        key = (request.method, request.url.path)
        if key not in answers:
            return httpx.Response(
                404, json={"error": {"code": "not_found", "message": "no", "details": None}}
            )
        status, body = answers[key]
        return httpx.Response(status, json=body)

    return ApiClient("http://api", transport=httpx.MockTransport(handle)), seen


def test_candidate_rows_show_cause_quality_suggestion_and_decision() -> None:
    row = rv.candidate_row(CANDIDATE)
    assert row["key"] == "20261201T000000000Z-abcd/000007"
    assert row["cause"] == "label error" and row["label_quality"] == 0.01
    assert row["suggestion"] == "virginica" and row["review"] == "relabel → virginica"
    assert row["why"] == "cleanlab flags the label" and row["flags"] == "misclassified"
    assert rv.candidate_row({**CANDIDATE, "review": None})["review"] == ""


def test_decisions_for_selected_rows_are_sent_with_the_chosen_label() -> None:
    client, seen = recording_client(
        {("POST", "/api/retrain/reviews"): (200, {"count": 1, "reviewed": []})}
    )
    selected = [rv.candidate_row(CANDIDATE)]
    alert = rv.decide(client, "relabel", "r", selected, "versicolor", " bo ")
    assert "Stored 1" in text_of(alert)
    assert json.loads(seen[0].content) == {
        "reviews": [
            {
                "partition_key": CANDIDATE["partition_key"],
                "sort_key": "000007",
                "decision": "relabel",
                "label": "versicolor",
            }
        ],
        "reviewer": "bo",
    }
    rv.decide(client, "accept", "r", None, None, None)
    assert json.loads(seen[1].content) == {
        "run_id": "r",
        "accept_suggestions": "label_error",
        "reviewer": "dashboard",
    }
    assert is_error(rv.decide(client, "keep", "r", [], None, None))
    assert len(seen) == 2  # nothing sent without a selection


def test_a_refused_review_is_an_error_alert() -> None:
    body = {
        "error": {"code": "unknown_class", "message": "'tulip' is not a class", "details": None}
    }
    client, _ = recording_client({("POST", "/api/retrain/reviews"): (422, body)})
    alert = rv.decide(client, "relabel", "r", [rv.candidate_row(CANDIDATE)], "tulip", None)
    assert is_error(alert) and "tulip" in text_of(alert)


def test_job_progress_and_result() -> None:
    running = {
        "job_id": "j1",
        "status": "running",
        "attempts": 2,
        "progress": {"stage": "training", "epoch": 5, "epochs": 20},
    }
    text = text_of(rv.job_view(running))
    assert "epoch 5/20" in text and "re-queued after a restart" in text
    done = {**running, "status": "succeeded", "result": {"version": 3}}
    assert "New version 3" in text_of(rv.job_view(done))
    client, _ = recording_client({("GET", "/api/jobs/j1"): (200, done)})
    fresh, finished = rv.poll_job(client, running)
    assert finished and fresh["result"]["version"] == 3


def test_comparison_side_by_side() -> None:
    per_class = {
        c: {"precision": 1.0, "recall": 1.0, "f1": f, "support": 10}
        for c, f in (("setosa", 1.0), ("versicolor", 0.9))
    }
    result = {
        "versions": [1, 2],
        "dataset_id": 4,
        "rows": 20,
        "labels": ["setosa", "versicolor"],
        "note": "3 rows used to train version 1 or 2 were left out",
        "results": {
            "1": {"accuracy": 0.9, "confusion_matrix": [[10, 0], [2, 8]], "per_class": per_class},
            "2": {"accuracy": 0.95, "confusion_matrix": [[10, 0], [1, 9]], "per_class": per_class},
        },
        "flagged": {
            "records": 12,
            "a_right": 4,
            "b_right": 11,
            "fixed_count": 7,
            "newly_broken_count": 0,
        },
    }
    view = vv.comparison_view(result)
    text = text_of(view)
    assert "v1: 90.00%" in text and "v2: 95.00%" in text
    assert "fixed 7" in text and "newly broken 0" in text and "left out" in text
    figure = vv.per_class_figure(result)
    assert [t.name for t in figure.data] == ["v1", "v2"]


def test_promotion_refusal_and_forced_success() -> None:
    refused = {
        "error": {"code": "worse_version", "message": "version 2 is less accurate", "details": None}
    }
    client, _ = recording_client({("POST", "/api/models/0/promote"): (409, refused)})
    alert = vv.promote(client, 0, 2, False, None)
    assert is_error(alert) and "less accurate" in text_of(alert)
    ok = {"promoted_version": 2, "promotions": [{"version": 2, "forced": True}]}
    client, seen = recording_client({("POST", "/api/models/0/promote"): (200, ok)})
    assert "forced, recorded" in text_of(vv.promote(client, 0, 2, True, "ana"))
    assert json.loads(seen[0].content) == {"version": 2, "force": True, "reviewer": "ana"}
