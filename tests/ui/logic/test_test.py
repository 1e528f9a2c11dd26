"""The Test page's logic: a batch test's metrics and the score log's progress.
Called directly, with a client talking to the fake model_api (tests/ui/conftest.py)."""

from __future__ import annotations

import json

from dashboard.logic import test as tv

from tests.support.ui_kit import is_error, text_of

RUN = "20261125T031509123Z-7f3a"


def test_run_test_shows_metrics_and_remembers_the_run(client, fake_api, make) -> None:
    fake_api.models[0] = make.model(0, 0)
    body, run_id, alert = tv.run_test(client, 0, 0, "0.2", "11")
    assert run_id == RUN and alert is None
    sent = json.loads(fake_api.calls("POST", "/api/models/0/tests")[0].content)
    assert sent == {"dataset_id": 0, "flip_fraction": 0.2, "seed": 11}
    text = text_of(body)
    assert "80.0%" in text and "Flipped labels 2" in text
    heatmap = body[1].children[0].children.figure.data[0]
    assert [list(r) for r in heatmap.z] == [[3, 1, 0], [0, 3, 0], [1, 0, 2]]
    rows = tv.per_class_rows(fake_api.runs[RUN]["per_class"])
    assert rows[1] == {
        "class": "versicolor",
        "precision": "75.0%",
        "recall": "100.0%",
        "f1": "85.7%",
        "support": 3,
    }


def test_run_test_rejects_a_bad_share_without_calling(client, fake_api) -> None:
    for flip in ("1.5", "-0.1", "abc"):
        _, _, alert = tv.run_test(client, 0, 0, flip, None)
        assert is_error(alert)
    assert fake_api.requests == []


def test_logging_progress_polls_until_the_run_is_written(client, fake_api, make) -> None:
    fake_api.runs[RUN] = make.run(0, 0)
    view, stop = tv.poll_logging(client, RUN)
    assert stop is False and "4/10 records written" in text_of(view)
    fake_api.runs[RUN]["logging"] |= {"written": 10, "pending": 0, "state": "complete"}
    view, stop = tv.poll_logging(client, RUN)
    assert stop is True and "10/10" in text_of(view)
    assert tv.logging_done({"total": 5, "written": 3, "failed": 2, "pending": 0, "state": "x"})
    final = client.schema()["logging_final_states"]
    assert tv.logging_done({"total": 0, "state": "disabled"}, final)
    assert not tv.logging_done({"total": 5, "written": 0, "pending": 5, "state": "writing"}, final)
