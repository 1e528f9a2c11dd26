"""Triage (cleanlab) and review decisions of retrain candidates, against a real DynamoDB API.

A model trained on the bundled data batch-tests the same rows with 10 % of the labels flipped
(a known set); the real flagger copies the problem records; triage must call the flipped rows
label errors (precision and recall computed here, from the run's ``flipped`` list), and review
decisions must land on the candidates' items (read back with boto3, not through the API).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import bundled, model_api_kit, retrain_kit

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def trained(
    aws_endpoint: Any, module_aws_tables: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """model_api and one trained model, shared by this module's tests (training is the slow
    part); every test batch-tests it anew, so each works on a run and candidates of its own."""
    data_dir = tmp_path_factory.mktemp("triage")
    with retrain_kit.api_on_tables(aws_endpoint, module_aws_tables, data_dir) as (api, ddb):
        model = api.post("/api/models", json={"dataset_id": 0, "seed": 7}).json()
        model = model_api_kit.wait_for_model(api, model["id"])
        assert model["status"] == "ready", model["error"]
        yield api, ddb, model


@pytest.fixture
def loop(
    trained: tuple[Any, Any, dict[str, Any]], module_aws_tables: dict[str, str]
) -> dict[str, Any]:
    api, ddb, model = trained
    r = api.post(
        f"/api/models/{model['id']}/tests",
        json={"dataset_id": 0, "flip_fraction": 0.1, "seed": 11},
    )
    run = r.json()
    model_api_kit.wait_logged(api, run["run_id"])
    seen = retrain_kit.flag_run(
        ddb, module_aws_tables["score"], module_aws_tables["retrain"], run["run_id"]
    )
    assert seen == run["rows"] == 1200
    return {"api": api, "run": run, "model": model, "ddb": ddb, "tables": module_aws_tables}


def stored(loop: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The candidate's item as the table holds it (wire format, read past the API)."""
    raw = loop["ddb"].get_item(
        TableName=loop["tables"]["retrain"],
        Key={"partition_key": {"S": item["partition_key"]}, "sort_key": {"S": item["sort_key"]}},
        ConsistentRead=True,
    )["Item"]
    return raw


def test_triage_finds_the_flipped_labels(loop: dict[str, Any]) -> None:
    api, run = loop["api"], loop["run"]
    truth = bundled.bundled_frame()["species"].tolist()
    flipped = set(run["flipped"])
    assert len(flipped) == 120
    items = retrain_kit.all_candidates(api, run_id=run["run_id"])
    by_pos = {i["position"]: i for i in items}
    assert flipped <= set(by_pos)  # the model is right on the true labels: every flip is flagged
    found = {p for p, i in by_pos.items() if i["suspected_cause"] == "label_error"}
    tp = len(found & flipped)
    precision, recall = tp / len(found), tp / len(flipped)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    right = sum(by_pos[p]["suggested_label"] == truth[p] for p in found & flipped)
    assert right / tp >= 0.9
    for item in items:
        assert item["suspected_cause"] in ("label_error", "model_error", "uncertain")
        assert item["triage_reasons"] and item["review"] is None
        assert 0.0 <= item["label_quality"] <= 1.0
        if item["suspected_cause"] == "label_error":
            assert item["suggested_label"] != item["Actual"]
            assert item["suggested_decision"] == "relabel"
    only = retrain_kit.all_candidates(api, run_id=run["run_id"], cause="label_error")
    assert {i["position"] for i in only} == found
    setosa = retrain_kit.all_candidates(api, run_id=run["run_id"], actual="setosa")
    assert setosa and {i["Actual"] for i in setosa} == {"setosa"}
    page = api.get("/api/retrain", params={"run_id": run["run_id"]}).json()
    summary = page["triage"][run["run_id"]]
    assert summary["scored_rows"] == 1200 and summary["label_issues"] >= len(found)


def test_reviews_are_stored_on_the_items(loop: dict[str, Any]) -> None:
    api, run = loop["api"], loop["run"]
    items = sorted(
        retrain_kit.all_candidates(api, run_id=run["run_id"], cause="label_error"),
        key=lambda i: i["sort_key"],
    )
    a, b, c = items[:3]
    keys = lambda i: {"partition_key": i["partition_key"], "sort_key": i["sort_key"]}  # noqa: E731
    body = {
        "reviewer": "ana",
        "reviews": [
            {**keys(a), "decision": "relabel"},
            {**keys(b), "decision": "keep"},
            {**keys(c), "decision": "exclude"},
        ],
    }
    r = api.post("/api/retrain/reviews", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 3
    raw = stored(loop, a)
    assert raw["review"]["M"]["decision"] == {"S": "relabel"}
    assert raw["review"]["M"]["label"] == {"S": a["suggested_label"]}
    assert raw["review"]["M"]["reviewer"] == {"S": "ana"}
    assert len(raw["review_history"]["L"]) == 1
    assert stored(loop, b)["review"]["M"]["decision"] == {"S": "keep"}
    assert stored(loop, b)["review"]["M"]["label"] == {"NULL": True}
    reviewed = retrain_kit.all_candidates(api, run_id=run["run_id"], reviewed="true")
    assert sorted(i["sort_key"] for i in reviewed) == sorted(i["sort_key"] for i in (a, b, c))
    assert {i["review"]["decision"] for i in reviewed} == {"relabel", "keep", "exclude"}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"sort_key": "999999"}, 404, "candidate_not_found"),
        ({"decision": "relabel", "label": "tulip"}, 422, "unknown_class"),
        ({"decision": "keep", "label": "setosa"}, 422, "validation_error"),
        ({"decision": "promote"}, 422, "validation_error"),
    ],
)
def test_bad_reviews_change_nothing(
    loop: dict[str, Any], change: dict[str, Any], status: int, code: str
) -> None:
    api, run = loop["api"], loop["run"]
    first, second = retrain_kit.all_candidates(api, run_id=run["run_id"])[:2]
    good = {
        "partition_key": first["partition_key"],
        "sort_key": first["sort_key"],
        "decision": "keep",
    }
    bad = {
        "partition_key": second["partition_key"],
        "sort_key": second["sort_key"],
        "decision": "keep",
    }
    r = api.post("/api/retrain/reviews", json={"reviews": [good, {**bad, **change}]})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert "review" not in stored(loop, first) and "review" not in stored(loop, second)


def test_two_reviews_at_once_later_wins_both_recorded(loop: dict[str, Any]) -> None:
    api, run = loop["api"], loop["run"]
    item = retrain_kit.all_candidates(api, run_id=run["run_id"])[0]
    key = {"partition_key": item["partition_key"], "sort_key": item["sort_key"]}
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def review(who: str, decision: str) -> None:
        barrier.wait()
        answers.append(
            api.post(
                "/api/retrain/reviews",
                json={"reviewer": who, "reviews": [{**key, "decision": decision}]},
            )
        )

    threads = [
        threading.Thread(target=review, args=a) for a in (("ana", "keep"), ("bo", "exclude"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200, 200]
    raw = stored(loop, item)
    history = [h["M"] for h in raw["review_history"]["L"]]
    assert sorted(h["reviewer"]["S"] for h in history) == ["ana", "bo"]
    latest = max(history, key=lambda h: h["reviewed_at"]["S"])
    assert raw["review"]["M"]["reviewed_at"] == latest["reviewed_at"]
    assert raw["review"]["M"]["reviewer"] == latest["reviewer"]


def test_accept_all_label_error_suggestions(loop: dict[str, Any]) -> None:
    api, run = loop["api"], loop["run"]
    errors = retrain_kit.all_candidates(api, run_id=run["run_id"], cause="label_error")
    one = errors[0]
    key = {"partition_key": one["partition_key"], "sort_key": one["sort_key"]}
    api.post("/api/retrain/reviews", json={"reviews": [{**key, "decision": "exclude"}]})
    r = api.post(
        "/api/retrain/reviews", json={"run_id": run["run_id"], "accept_suggestions": "label_error"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["count"] == len(errors) - 1  # an existing decision is not overridden
    after = {
        i["sort_key"]: i
        for i in retrain_kit.all_candidates(api, run_id=run["run_id"], cause="label_error")
    }
    assert after[one["sort_key"]]["review"]["decision"] == "exclude"
    for item in errors[1:]:
        review = after[item["sort_key"]]["review"]
        assert review["decision"] == "relabel" and review["label"] == item["suggested_label"]
        assert review["source"] == "accept_suggestions"
    assert (
        retrain_kit.all_candidates(api, run_id=run["run_id"], cause="label_error", reviewed="false")
        == []
    )
    bad = api.post(
        "/api/retrain/reviews", json={"run_id": run["run_id"], "accept_suggestions": "uncertain"}
    )
    assert bad.status_code == 422


def test_an_unreadable_candidate_is_uncertain_and_can_only_be_excluded(
    loop: dict[str, Any],
) -> None:
    api, run, ddb = loop["api"], loop["run"], loop["ddb"]
    key = {"partition_key": {"S": run["run_id"]}, "sort_key": {"S": "unreadable-1"}}
    ddb.put_item(
        TableName=loop["tables"]["retrain"],
        Item={**key, "reasons": {"L": [{"S": "unreadable"}]}, "Features": {"S": "not a dict"}},
    )
    items = retrain_kit.all_candidates(api, run_id=run["run_id"], reason="unreadable")
    assert len(items) == 1
    (item,) = items
    assert item["suspected_cause"] == "uncertain" and item["label_quality"] is None
    assert "not triaged" in item["triage_reasons"][0]
    plain = {"partition_key": run["run_id"], "sort_key": "unreadable-1"}
    r = api.post("/api/retrain/reviews", json={"reviews": [{**plain, "decision": "keep"}]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unreadable_candidate"
    r = api.post("/api/retrain/reviews", json={"reviews": [{**plain, "decision": "exclude"}]})
    assert r.status_code == 200
