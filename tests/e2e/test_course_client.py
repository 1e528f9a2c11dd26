"""A course client, unchanged, against the running service (issue 8's "done when").

The calls below are the course's dashboard template's: ``requests`` with the lab's form fields
and query strings, its parsing of the answers (``int(r.text)``, the class index after ``=``,
``r.json()`` as the training history, ``pd.read_json`` of the test answer) and its plots. The
service is the real one: ``python -m model_api`` over HTTP with DynamoDB Local behind it.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.express as px
import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUNDLED = (
    Path(__file__).resolve().parents[2]
    / "services/model_api/src/model_api/data/iris_extended_encoded.csv"
)


def course_dashboard_session(url: str, csv_text: str) -> dict[str, Any]:
    """What the course's dashboard did, call by call (upload, create, retrain, score, test)."""
    r = requests.post(f"{url}/iris/datasets", data={"train": csv_text}, timeout=60)
    dataset = int(r.text)
    r = requests.post(f"{url}/iris/model", data={"dataset": dataset}, timeout=600)
    model = int(r.text)
    r = requests.put(f"{url}/iris/model/{model}?dataset={dataset}", timeout=600)
    history = pd.DataFrame(r.json())
    history_figure = px.line(history, y=["loss", "accuracy"])
    df = pd.read_csv(io.StringIO(csv_text))
    fields = ",".join(str(v) for v in df.iloc[0, 1:].tolist())
    r = requests.get(f"{url}/iris/model/{model}/score?fields={fields}", timeout=60)
    score_text = r.text
    score_class = int(score_text.split("=")[-1])
    r = requests.get(f"{url}/iris/model/{model}/test?dataset={dataset}", timeout=600)
    test = pd.read_json(io.StringIO(r.text))  # pandas >= 3: a literal JSON string needs StringIO
    test_figure = px.line(test, y=["actual", "predicted"])
    return {
        "dataset": dataset,
        "model": model,
        "history": history,
        "history_figure": history_figure,
        "score_text": score_text,
        "score_class": score_class,
        "test": test,
        "test_figure": test_figure,
    }


def test_the_course_dashboard_client_works_unchanged(embedded_stack: Any) -> None:
    url = embedded_stack.api_url
    csv_text = BUNDLED.read_text()
    out = course_dashboard_session(url, csv_text)

    assert out["dataset"] == 1  # dataset 0 is the bundled one the service starts with
    assert out["score_text"] == f"Score done, class={out['score_class']}"
    assert out["score_class"] == 0  # the first bundled row is a setosa
    assert list(out["history"].columns) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert [t.name for t in out["history_figure"].data] == ["loss", "accuracy"]
    test = out["test"]
    species = pd.read_csv(io.StringIO(csv_text))["species"]
    codes = {name: i for i, name in enumerate(sorted(species.unique()))}  # the LabelEncoder
    assert test["actual"].tolist() == [codes[s] for s in species]
    assert set(test["predicted"]) <= {0, 1, 2}
    accuracy = float((test["actual"] == test["predicted"]).mean())
    assert test["accuracy"].iloc[0] == pytest.approx(accuracy) and accuracy > 0.8
    assert [t.name for t in out["test_figure"].data] == ["actual", "predicted"]

    # the course test was logged as a run like any other, and its records reach the table
    runs = requests.get(f"{url}/api/runs", params={"model_id": out["model"]}, timeout=10).json()
    run = runs["items"][0]
    assert run["rows"] == len(species) and run["accuracy"] == pytest.approx(accuracy)
    deadline = time.monotonic() + 120
    while run["logging"]["state"] != "complete":
        assert time.monotonic() < deadline, run["logging"]
        time.sleep(0.5)
        run = requests.get(f"{url}/api/runs/{run['run_id']}", timeout=10).json()
    assert run["logging"]["written"] == len(species)
