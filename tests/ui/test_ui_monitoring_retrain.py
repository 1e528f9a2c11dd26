"""The Monitoring page's "Retrain on flagged records" loop, driven against the fake model_api:
flagged records → data set → retrain → re-test → before/after comparison."""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dashboard.views import monitoring_view as mon
from ui_kit import is_error, text_of

RUN = "20261125T031509123Z-7f3a"


def delta_colours(component: Any) -> list[str]:
    """The colours of the before/after deltas, in order (accuracy, flagged share)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list | tuple):
            for child in node:
                walk(child)
            return
        colour = getattr(node, "data-delta", None) if node is not None else None
        if colour:
            found.append(colour)
        children = getattr(node, "children", None)
        if children is not None and not isinstance(children, str):
            walk(children)

    walk(component)
    return found


def candidate(make, run_id: str, row: int, predicted: str, actual: str) -> dict[str, Any]:
    item = make.score_item(run_id, row, predicted, actual, 0.55)
    item["Features"] = json.dumps({"sepal_length": 5.1, "petal_length": 1.4})
    item["reasons"] = ["misclassified"]
    return item


def seeded(fake_api, make, bundled, flagged: int = 2, flip: float = 0.0) -> None:
    """A model trained on data set 0, one run of it with ``flagged`` of its 10 rows flagged."""
    fake_api.add_dataset(bundled[:20], name="base.csv")
    fake_api.add_dataset(bundled[:10], name="test.csv")
    fake_api.models[0] = make.model(0, 0)
    run = make.run(0, 1)
    run["flip_fraction"] = flip
    run["seed"] = 7 if flip else None
    fake_api.runs[RUN] = run
    fake_api.candidates[RUN] = [
        candidate(make, RUN, i, "setosa", "versicolor") for i in range(flagged)
    ]


def test_the_base_defaults_to_the_models_training_data_and_a_users_choice_sticks(
    client, fake_api, make, bundled
) -> None:
    seeded(fake_api, make, bundled)
    options, value, for_run, alert = mon.retrain_base_options(client, RUN, None, None)
    assert [o["value"] for o in options] == [1, 0] and value == 0 and for_run == RUN
    assert alert is None
    # the run picker re-sends the same run every few seconds: a cleared base stays cleared
    _, value, _, _ = mon.retrain_base_options(client, RUN, None, RUN)
    assert value is None
    _, value, _, _ = mon.retrain_base_options(client, RUN, 1, RUN)
    assert value == 1
    assert mon.retrain_base_options(client, None, 1, RUN)[:2] == ([], None)


def test_the_loop_builds_retrains_retests_and_compares(client, fake_api, make, bundled) -> None:
    seeded(fake_api, make, bundled, flagged=2)
    job, view, poll_off, button_off, alert = mon.retrain_step(client, "mon-rt-go", RUN, 0, None)
    assert alert is None and job["stage"] == "training" and not poll_off and button_off
    # (1) the data set: the 20 base rows + the 2 flagged rows, labelled with their Actual class
    built = fake_api.datasets[job["train_dataset_id"]]
    assert built["rows"] == 22 and built["class_counts"]["versicolor"] >= 2
    sent = json.loads(fake_api.calls("POST", "/api/datasets/from-retrain")[0].content)
    assert sent == {"run_id": RUN, "base_dataset_id": 0, "name": f"retrain-{RUN}"}
    # (2) retraining started on it
    assert json.loads(fake_api.calls("POST", "/api/models/0/train")[0].content) == {
        "dataset_id": job["train_dataset_id"]
    }
    assert job["before"] == {"accuracy": 0.8, "flagged": 2, "share": 0.2}

    # while training, polling shows progress and does not test yet
    job, view, poll_off, _, alert = mon.retrain_step(client, "mon-rt-poll", RUN, 0, job)
    assert job["stage"] == "training" and not poll_off and alert is None
    assert "training" in text_of(view) and "epoch 1/3" in text_of(view)
    assert not fake_api.calls("POST", "/api/models/0/tests")

    # (3) ready with a new version → re-test on the run's data set
    fake_api.finish_training(0)
    fake_api.test_accuracy = 0.9
    job, view, poll_off, _, _ = mon.retrain_step(client, "mon-rt-poll", RUN, 0, job)
    assert job["stage"] == "counting" and not poll_off
    tests = fake_api.calls("POST", "/api/models/0/tests")
    assert len(tests) == 1 and json.loads(tests[0].content)["dataset_id"] == 1
    new_run = job["after"]["run_id"]
    assert new_run != RUN

    # the flagger copies the new run's candidates; counting ends when logged and stable
    fake_api.runs[new_run]["logging"] = {
        "total": 10,
        "written": 10,
        "pending": 0,
        "failed": 0,
        "state": "complete",
    }
    fake_api.candidates[new_run] = [candidate(make, new_run, 0, "setosa", "virginica")]
    job, view, poll_off, _, _ = mon.retrain_step(client, "mon-rt-poll", RUN, 0, job)
    assert job["stage"] == "counting" and job["after"]["flagged"] == 1
    job, view, poll_off, button_off, _ = mon.retrain_step(client, "mon-rt-poll", RUN, 0, job)
    assert job["stage"] == "done" and poll_off and not button_off
    text = text_of(view)
    assert "80.0% → 90.0%" in text and "+10.0 pp" in text  # accuracy up
    assert "20.0% → 10.0%" in text and "-10.0 pp" in text  # flagged share down
    assert delta_colours(view) == ["success", "success"]
    assert "v1 → v2" in text and "flipped labels" in text


def test_a_worse_model_is_shown_red_and_a_flipped_run_is_retested_the_same_way(
    client, fake_api, make, bundled
) -> None:
    seeded(fake_api, make, bundled, flagged=3, flip=0.2)
    job, *_ = mon.retrain_step(client, "mon-rt-go", RUN, None, None)
    sent = json.loads(fake_api.calls("POST", "/api/datasets/from-retrain")[0].content)
    assert "base_dataset_id" not in sent and fake_api.datasets[job["train_dataset_id"]]["rows"] == 3
    fake_api.finish_training(0)
    fake_api.test_accuracy = 0.5
    job, *_ = mon.retrain_step(client, "mon-rt-poll", RUN, None, job)
    body = json.loads(fake_api.calls("POST", "/api/models/0/tests")[0].content)
    assert body == {"dataset_id": 1, "flip_fraction": 0.2, "seed": 7}
    new_run = job["after"]["run_id"]
    fake_api.runs[new_run]["logging"] = {
        "total": 10,
        "written": 10,
        "pending": 0,
        "failed": 0,
        "state": "complete",
    }
    fake_api.candidates[new_run] = [candidate(make, new_run, i, "a", "b") for i in range(5)]
    for _ in range(2):
        job, view, *_ = mon.retrain_step(client, "mon-rt-poll", RUN, None, job)
    assert job["stage"] == "done"
    assert delta_colours(view) == ["danger", "danger"]
    assert "-30.0 pp" in text_of(view)
    # the flipped-label note is an info alert here, not small print
    assert any(isinstance(c, dbc.Alert) and c.color == "info" for c in view)


def test_no_candidates_is_a_clear_alert_and_nothing_is_trained(
    client, fake_api, make, bundled
) -> None:
    seeded(fake_api, make, bundled, flagged=0)
    job, view, poll_off, button_off, alert = mon.retrain_step(client, "mon-rt-go", RUN, 0, None)
    assert is_error(alert) and "Nothing to retrain on" in text_of(alert)
    assert job is None and poll_off and not button_off
    assert not fake_api.calls("POST", "/api/models/0/train")
    assert "Builds a data set" in text_of(view)  # the card stays usable


def test_failed_training_stops_polling_with_an_alert(client, fake_api, make, bundled) -> None:
    seeded(fake_api, make, bundled)
    job, *_ = mon.retrain_step(client, "mon-rt-go", RUN, 0, None)
    fake_api.finish_training(0, status="failed")
    job, view, poll_off, button_off, alert = mon.retrain_step(client, "mon-rt-poll", RUN, 0, job)
    assert job["stage"] == "failed" and poll_off and not button_off
    assert is_error(alert) and "training diverged" in text_of(alert)
    assert "failed" in text_of(view)
    assert not fake_api.calls("POST", "/api/models/0/tests")


def test_a_busy_model_or_a_missing_run_is_refused_before_anything_is_built(
    client, fake_api, make, bundled
) -> None:
    seeded(fake_api, make, bundled)
    fake_api.models[0]["status"] = "training"
    _, _, _, _, alert = mon.retrain_step(client, "mon-rt-go", RUN, 0, None)
    assert is_error(alert) and "wait until it is ready" in text_of(alert)
    _, _, _, _, alert = mon.retrain_step(client, "mon-rt-go", "no-such-run", 0, None)
    assert is_error(alert) and "run_not_found" in text_of(alert)
    _, _, _, _, alert = mon.retrain_step(client, "mon-rt-go", None, 0, None)
    assert is_error(alert)
    assert not fake_api.calls("POST", "/api/datasets/from-retrain")


def test_the_client_sends_only_the_fields_given(client, fake_api, make, bundled) -> None:
    seeded(fake_api, make, bundled)
    created = client.dataset_from_retrain(run_id=RUN)
    assert created["rows"] == 2
    assert json.loads(fake_api.calls("POST", "/api/datasets/from-retrain")[0].content) == {
        "run_id": RUN
    }


def test_ticks_that_overlap_a_slow_retest_start_no_second_test(client, fake_api, make, bundled):
    seeded(fake_api, make, bundled, flagged=2)
    job, _ = mon.start_retrain(client, RUN, None)
    fake_api.finish_training(0)
    first, _ = mon.advance_retrain(client, job)
    late, _ = mon.advance_retrain(client, job)  # a tick that still carried the old job
    assert len(fake_api.calls("POST", "/api/models/0/tests")) == 1
    assert late["after"]["run_id"] == first["after"]["run_id"]
