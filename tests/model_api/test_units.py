"""Pure logic of model_api: CSV validation, metrics, label flipping, cursors, table records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_api.core.errors import ApiError
from model_api.datasets.store import bundled_csv, describe
from model_api.runs.batch_test import flip_labels
from model_api.runs.metrics import confusion, cross_entropy, per_class, stratified_split
from model_api.schema.features import FEATURE_NAMES, parse_csv

HEADER = "species," + ",".join(FEATURE_NAMES)
ROW = "setosa," + ",".join(["1.5"] * 20)


def test_bundled_csv_parses_to_the_documented_shape() -> None:
    df = parse_csv(bundled_csv())
    assert df.shape == (1200, 21)
    assert list(df.columns) == ["species", *FEATURE_NAMES]
    assert df["species"].value_counts().to_dict() == {
        "setosa": 400,
        "versicolor": 400,
        "virginica": 400,
    }
    assert df["soil_type"].dtype.kind == "i"  # stays an integer code, as in the file


def test_columns_in_any_order_are_put_in_canonical_order() -> None:
    cols = ["species", *FEATURE_NAMES]
    vals = ["virginica", *[str(i) for i in range(20)]]
    order = list(reversed(range(21)))
    text = ",".join(cols[i] for i in order) + "\n" + ",".join(vals[i] for i in order) + "\n"
    df = parse_csv(text)
    assert list(df.columns) == cols
    assert df.iloc[0]["species"] == "virginica"
    assert df.iloc[0]["elevation"] == 0.0 and df.iloc[0]["area_ratios"] == 19.0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        (HEADER + "\n", "no rows"),
        (HEADER.replace(",area_ratios", "") + "\n" + ROW.rsplit(",", 1)[0] + "\n", "columns"),
        (HEADER + ",extra\n" + ROW + ",1\n", "columns"),
        (HEADER + "\n" + ROW.replace("1.5", "abc", 1) + "\n", "not numbers"),
        (HEADER + "\n" + ROW.replace("1.5", "", 1) + "\n", "not numbers"),
        (HEADER + "\n" + ROW.replace("setosa", "", 1) + "\n", "species is missing"),
    ],
)
def test_bad_csv_is_a_422_that_says_why(text: str, fragment: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_csv(text)
    assert err.value.status == 422
    assert fragment in err.value.message


def test_describe_reports_counts_and_stats() -> None:
    df = parse_csv(HEADER + "\n" + ROW + "\n" + ROW.replace("setosa", "virginica") + "\n")
    df.loc[1, "elevation"] = 3.5
    meta = describe(7, "two", "t", df)
    assert meta["rows"] == 2 and meta["class_counts"] == {"setosa": 1, "virginica": 1}
    assert meta["stats"]["elevation"] == {"mean": 2.5, "std": 1.0, "min": 1.5, "max": 3.5}
    assert meta["feature_names"] == list(FEATURE_NAMES)


def test_confusion_and_per_class_match_hand_counts() -> None:
    labels = ["a", "b", "c"]
    actual = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "c"]
    m = confusion(actual, predicted, labels)
    assert m == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    pc = per_class(m, labels)
    assert pc["a"] == {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    assert pc["b"]["precision"] == 0.5 and pc["b"]["recall"] == 0.5
    assert pc["c"]["precision"] == 0.5 and pc["c"]["recall"] == 1.0


def test_per_class_is_zero_not_nan_for_a_class_never_predicted() -> None:
    pc = per_class(confusion(["a", "b"], ["a", "a"], ["a", "b"]), ["a", "b"])
    assert pc["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_stratified_split_holds_out_each_class_in_proportion() -> None:
    labels = np.repeat([0, 1, 2], 100)  # sorted by class, like the bundled file
    train, hold = stratified_split(labels, 0.2, np.random.default_rng(1))
    assert len(hold) == 60 and len(train) == 240
    assert set(train).isdisjoint(hold) and set(train) | set(hold) == set(range(300))
    assert np.bincount(labels[hold]).tolist() == [20, 20, 20]
    train0, hold0 = stratified_split(labels, 0.0, np.random.default_rng(1))
    assert len(hold0) == 0 and len(train0) == 300


def test_cross_entropy() -> None:
    probs = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert cross_entropy(probs, np.array([0, 1])) == pytest.approx(
        -(np.log(0.5) + np.log(0.75)) / 2
    )


def test_flip_labels_changes_exactly_the_share_asked_to_another_class() -> None:
    labels = ["a"] * 50 + ["b"] * 50
    before = list(labels)
    flipped = flip_labels(labels, ["a", "b", "c"], 0.1, np.random.default_rng(5))
    assert len(flipped) == 10 and len(set(flipped)) == 10
    changed = [i for i in range(100) if labels[i] != before[i]]
    assert changed == flipped
    assert all(labels[i] in ("a", "b", "c") for i in flipped)
    again = ["a"] * 50 + ["b"] * 50
    assert flip_labels(again, ["a", "b", "c"], 0.1, np.random.default_rng(5)) == flipped
    assert again == labels  # same seed, same relabelling


@pytest.mark.slow
def test_a_job_cut_off_by_a_restart_is_reported_failed(
    tmp_path: Path, fresh_registry_table: Any
) -> None:
    from model_api.core.documents import get_doc, put_doc
    from model_api.core.objects import ObjectStore
    from model_api.datasets.store import DatasetStore
    from model_api.models.queue import TrainingQueue
    from model_api.models.schemas import ModelCreate
    from model_api.models.store import ModelStore, sort_key
    from model_api.models.training import Trainer

    registry = fresh_registry_table
    objects = ObjectStore((tmp_path / "objects").as_uri())
    datasets = DatasetStore(registry, objects)
    queue = TrainingQueue()
    trainer = Trainer(ModelStore(registry, objects), queue, datasets)
    record, future = trainer.create(ModelCreate(dataset_id=0, epochs=1))
    future.result(timeout=300)
    queue.shutdown()
    key = sort_key(record["id"])
    stale = get_doc(registry, "model", key)
    # as if it died mid-job, in a record without a claimable job (those are trained again by
    # whichever replica claims them: tests/model_api/replicas/test_training_claims.py)
    put_doc(registry, "model", key, {**stale, "status": "training", "job": None})

    again = ModelStore(registry, objects)
    again.interrupted()  # what a start does
    model = again.get(record["id"])
    assert model["status"] == "failed" and "restart" in model["error"]
    predictor, classes = again.predictor(record["id"])  # the finished version still scores
    assert classes == ["setosa", "versicolor", "virginica"] and predictor.kernels
