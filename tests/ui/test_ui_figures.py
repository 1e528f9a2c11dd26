"""The figures are written as plain Plotly JSON and not validated when built (for speed): here
plotly.py validates every one of them, so a misspelt property or a wrong value fails a test
instead of drawing nothing in the browser."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from dashboard.components import data_figures, model_figures, run_figures
from dashboard.components import figures as fg

BINS = {
    "column": "petal_length",
    "edges": [1.0, 2.0, 3.0, 4.0],
    "counts": {"setosa": [5, 1, 0], "versicolor": [0, 4, 2], "other": [1, 1, 1]},
}
COLUMNS = {"columns": {"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]}}
HISTORY = {
    "loss": [1.0, 0.5],
    "val_loss": [1.1, 0.6],
    "accuracy": [0.5, 0.8],
    "val_accuracy": [0.4, 0.7],
}
RUNS = [
    {"run_id": "r1", "model_id": 0, "created_at": "2026-11-25T02:00:00Z", "accuracy": 0.8},
    {
        "run_id": "r2",
        "model_id": 1,
        "created_at": "2026-11-25T02:01:00Z",
        "accuracy": 0.9,
        "flagged_share": 0.1,
    },
]
CASES = [
    fg.empty_figure("nothing yet"),
    data_figures.histogram_figure(BINS),
    data_figures.scatter_figure(COLUMNS | {"labels": ["setosa", "virginica", "setosa"]}, "a", "b"),
    data_figures.scatter_figure(COLUMNS, "a", "b"),
    model_figures.history_figure(HISTORY),
    model_figures.confusion_figure(["a", "b"], [[3, 1], [0, 4]]),
    model_figures.probability_figure({"setosa": 0.9, "virginica": 0.1}, "setosa"),
    run_figures.runs_figure(RUNS),
]


@pytest.mark.parametrize("figure", CASES, ids=lambda f: f.layout.title.text or "empty")
def test_every_figure_is_valid_plotly_and_validation_changes_nothing(figure: go.Figure) -> None:
    sent = json.loads(pio.to_json(figure))
    validated = go.Figure(sent)  # raises on an unknown property or a bad value
    assert json.loads(pio.to_json(validated)) == sent


def test_the_figures_keep_the_products_look() -> None:
    hist = data_figures.histogram_figure(BINS)
    assert [t.marker.color for t in hist.data] == ["#2c7fb8", "#f39c12", "#8e44ad"]
    assert hist.layout.barmode == "stack" and hist.layout.font.family.startswith("Lato")
    assert sorted(hist.layout.template.data.to_plotly_json()) == ["bar", "heatmap", "scatter"]
    history = model_figures.history_figure(HISTORY)
    assert [a.text for a in history.layout.annotations] == ["Loss", "Accuracy"]
    assert {t.xaxis for t in history.data} == {"x", "x2"} and history.layout.yaxis2.range == (
        0,
        1.02,
    )


def test_every_graph_shows_the_mode_bar_without_the_plotly_logo() -> None:
    shown = fg.graph(fg.empty_figure("nothing"), id="g")
    assert shown.config == {"displaylogo": False}
    assert shown.id == "g" and shown.figure.layout.annotations[0].text == "nothing"
