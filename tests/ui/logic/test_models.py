"""The Models page's logic: the forms' checks, create and retrain, the grid, the detail.
Called directly, with a client talking to the fake model_api (tests/ui/conftest.py)."""

from __future__ import annotations

import json

from dash import no_update
from dashboard.logic import models as mv
from dashboard.logic import models_forms as mf

from tests.support.ui_kit import is_error, text_of


def test_create_spec_validates_the_form(limits) -> None:
    spec = mf.create_spec(0, "16, 8", "12", 16, "0.005", 0.25, "", limits=limits)
    assert spec == {
        "dataset_id": 0,
        "hidden_layers": [16, 8],
        "epochs": 12,
        "batch_size": 16,
        "learning_rate": 0.005,
        "validation_split": 0.25,
        "seed": None,
    }
    for bad in [
        (None, "10", 5, 32, 0.01, 0.2, None),
        (0, "ten", 5, 32, 0.01, 0.2, None),
        (0, "10", 0, 32, 0.01, 0.2, None),
        (0, "10", 2.5, 32, 0.01, 0.2, None),
        (0, "10", 5, 32, 0.01, 0.95, None),
        (0, "10", 5, 32, 0.01, 0.6, None),  # the API allows at most 0.5
        (0, "10", 5, 32, 2, 0.2, None),  # the API allows at most 1
        (0, "10", 5, 32, 0, 0.2, None),  # and more than 0
        (0, "10", limits["epochs"]["max"] + 1, 32, 0.01, 0.2, None),
        (0, "600", 5, 32, 0.01, 0.2, None),
        (0, "", 5, 32, 0.01, 0.2, None),
    ]:
        try:
            mf.create_spec(*bad, limits=limits)
        except mf.FormError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_a_bad_form_never_reaches_the_api(client, fake_api) -> None:
    alert, chosen = mf.act(
        client, "models-create", None, (0, "10,x", 5, 32, 0.01, 0.2, None), (None, None, None, None)
    )
    assert is_error(alert) and chosen is no_update
    assert [r.url.path for r in fake_api.requests] == ["/api/schema"]  # only the limits read


def test_create_posts_the_spec_and_selects_the_new_model(client, fake_api, bundled) -> None:
    fake_api.add_dataset(bundled[:10])
    alert, chosen = mf.act(
        client, "models-create", None, (0, "10, 10", 5, 32, 0.01, 0.2, 7), (None, None, None, None)
    )
    assert chosen == 0 and "queued" in text_of(alert)
    body = json.loads(fake_api.calls("POST", "/api/models")[0].content)
    assert body["hidden_layers"] == [10, 10] and body["epochs"] == 5 and body["seed"] == 7


def test_retrain_needs_a_selected_model_and_sends_only_what_was_typed(client, fake_api, make):
    alert, _ = mf.act(client, "models-retrain", None, (), (0, None, None, None))
    assert is_error(alert) and "Select a model" in text_of(alert)
    fake_api.models[0] = make.model(0, 0)
    alert, chosen = mf.act(client, "models-retrain", 0, (), (0, 4, "", None))
    assert chosen == 0
    assert json.loads(fake_api.calls("POST", "/api/models/0/train")[0].content) == {
        "dataset_id": 0,
        "epochs": 4,
    }


def test_refresh_keeps_polling_only_while_something_trains(client, fake_api, make) -> None:
    fake_api.models[0] = make.model(0, 0)
    fake_api.models[1] = make.model(1, 0, status="training")
    rows, selected, stop, _alert = mv.refresh(client, None, None, 0)
    assert [r["id"] for r in rows] == [1, 0] and selected == {"ids": ["0"]} and stop is False
    assert rows[0]["epochs"] == "1/3" and rows[1]["holdout_accuracy"] == "95.0%"
    fake_api.models[1]["status"] = "ready"
    _, selected, stop, _ = mv.refresh(client, 1, 0, None)  # a new model wins over the old one
    assert selected == {"ids": ["1"]} and stop is True
    assert mv.selection([{"id": 0, "name": "model-0"}]) == 0 and mv.selection([]) is None
    assert mv.selected_model(selected) == 1 and mv.selected_model({"ids": []}) is None


def test_detail_shows_progress_metrics_and_curves(client, fake_api, make) -> None:
    fake_api.models[0] = make.model(0, 0, status="training")
    body, figure, busy = mv.detail_for(client, 0)
    assert busy is True
    assert "epoch 1/3" in [getattr(c, "label", None) for c in body]
    assert [t.name for t in figure.data] == [
        "loss (train)",
        "loss (validation)",
        "accuracy (train)",
        "accuracy (validation)",
    ]
    body, figure, busy = mv.detail_for(client, 7)
    assert busy is True and is_error(body) and not figure.data


def test_the_models_first_view_shows_the_newest_model_in_the_layout(client, fake_api, make):
    fake_api.models[0] = make.model(0, 0)
    fake_api.models[1] = make.model(1, 0, status="training")
    view = mv.first_view(client)
    assert [r["id"] for r in view["rows"]] == [1, 0] and view["selected_rows"] == {"ids": ["1"]}
    assert view["selected"] == 1 and view["retrain_disabled"] is True
    assert view["poll_disabled"] is False and len(view["figure"].data) == 4
    assert view["dataset_options"] == [] and view["dataset"] is None and not view["form_alert"]
    fake_api.models.clear()  # no model yet: the page still opens, nothing selected
    empty = mv.first_view(client)
    assert empty["rows"] == [] and empty["selected"] is None and empty["poll_disabled"] is True
