"""model_api benchmark: training, single-row scoring and a 1,200-row batch test, each this
product's way and the course's way, measured in the same run on the bundled data set.

The course: Dense(10)-Dense(10)-softmax on raw features, rmsprop, batch_size=1, 10 epochs;
``model.predict`` per scoring request. Here: standardization inside the model, Adam, batch 32,
30 epochs, and scoring through a numpy forward pass of the trained weights.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _ms(samples: list[float]) -> str:
    return (
        f"{statistics.median(samples) * 1e3:9.3f} ms (p95 {np.percentile(samples, 95) * 1e3:.3f})"
    )


def _course_http_scorer(course: object, fields: str) -> Callable[[], object]:
    """The course's scoring route: parse ``fields`` and call ``model.predict`` per request."""
    from fastapi.testclient import TestClient

    from bench._common import course_score_app

    client = TestClient(course_score_app(course))
    return lambda: client.get("/iris/model/0/score", params={"fields": fields})


def main() -> None:
    import keras
    from model_api.datasets.store import bundled_csv
    from model_api.models import network
    from model_api.models.network import Predictor
    from model_api.runs.batch_test import run_batch_test
    from model_api.runs.metrics import stratified_split
    from model_api.schema.features import feature_matrix, parse_csv

    df = parse_csv(bundled_csv())
    x = feature_matrix(df)
    classes = sorted(df["species"].unique())
    y = np.array([classes.index(s) for s in df["species"]])
    train, hold = stratified_split(y, 0.2, np.random.default_rng(0))
    rows: list[tuple[str, str]] = []

    # --- training ---
    network.set_seed(0)
    t = time.perf_counter()
    ours = network.build_model(x[train], 3, [10, 10], 0.01)
    network.fit(ours, x[train], y[train], epochs=30, batch_size=32, validation=None,
                on_epoch=lambda e, logs: True)  # fmt: skip
    ours_train_s = time.perf_counter() - t
    predictor = Predictor.from_keras(ours)
    ours_acc = float((predictor.probabilities(x[hold]).argmax(1) == y[hold]).mean())

    keras.utils.set_random_seed(0)
    t = time.perf_counter()
    course = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(10, activation="relu"),
                               keras.layers.Dense(10, activation="relu"),
                               keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    course.compile(
        optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    course.fit(x[train], y[train], epochs=10, batch_size=1, verbose=0)
    course_train_s = time.perf_counter() - t
    course_acc = float((course.predict(x[hold], verbose=0).argmax(1) == y[hold]).mean())
    rows.append(("train: course (rmsprop, batch 1, 10 epochs, raw)",
                 f"{course_train_s:9.2f} s   holdout acc {course_acc:.4f}"))  # fmt: skip
    rows.append(("train: product (Adam, batch 32, 30 epochs, std.)",
                 f"{ours_train_s:9.2f} s   holdout acc {ours_acc:.4f}"))  # fmt: skip

    # --- one row, as a scoring request does ---
    one = x[:1]
    course_one = _timed(lambda: course.predict(one, verbose=0), 50)
    ours_one = _timed(lambda: predictor.probabilities(one), 2000)
    rows.append(("score 1 row: course model.predict", _ms(course_one)))
    rows.append(("score 1 row: product numpy forward pass", _ms(ours_one)))

    # --- HTTP end to end (in-process ASGI), score log off; the registry on DynamoDB Local ---
    from fastapi.testclient import TestClient
    from model_api.app import create_app
    from model_api.config import ApiSettings

    from bench._common import dynamodb_local_with_tables

    with (
        tempfile.TemporaryDirectory() as tmp,
        dynamodb_local_with_tables("IrisExtended", "IrisExtendedRetrain") as server,
    ):
        settings = ApiSettings(
            data_dir=Path(tmp), scorelog_enabled=False, aws_endpoint_url=server.endpoint_url
        )
        app = create_app(settings)
        # the Host guard serves loopback names only (TestClient sends "testserver")
        with TestClient(app, base_url="http://127.0.0.1") as client:
            m = client.post("/api/models", json={"dataset_id": 0, "epochs": 5, "seed": 0}).json()
            while client.get(f"/api/models/{m['id']}").json()["status"] in ("queued", "training"):
                time.sleep(0.2)
            body = {"values": [float(v) for v in x[0]]}
            post = lambda: client.post(f"/api/models/{m['id']}/score", json=body)  # noqa: E731
            ours_http = _timed(post, 300)
            rows.append(("score via HTTP POST /api/models/{id}/score", _ms(ours_http)))
            fields = ",".join(str(float(v)) for v in x[0])
            get = lambda: client.get(f"/iris/model/{m['id']}/score", params={"fields": fields})  # noqa: E731
            rows.append(("score via HTTP GET /iris/model/{n}/score", _ms(_timed(get, 300))))
            course_http = _timed(_course_http_scorer(course, fields), 50)
            rows.append(("score via HTTP: course (model.predict per request)", _ms(course_http)))
            speedup = statistics.median(course_http) / statistics.median(ours_http)
            rows.append(("HTTP scoring speed-up, p50", f"{speedup:9.1f} x"))
            test = lambda: client.post(f"/api/models/{m['id']}/tests", json={"dataset_id": 0})  # noqa: E731
            rows.append(("batch test 1,200 rows via HTTP (score log off)", _ms(_timed(test, 10))))

    # --- batch test arithmetic, 1,200 rows ---
    def course_test() -> None:
        pred = course.predict(x, verbose=0)
        predicted = [classes[i] for i in pred.argmax(1)]
        actual = df["species"].tolist()
        _ = sum(a == p for a, p in zip(actual, predicted, strict=True)) / len(actual)

    def ours_test() -> None:
        run_batch_test(run_id="bench", model_id=0, dataset_id=0, df=df, predictor=predictor,
                       classes=classes)  # fmt: skip

    rows.append(("batch test 1,200 rows: course model.predict", _ms(_timed(course_test, 10))))
    rows.append(("batch test 1,200 rows: product run_batch_test", _ms(_timed(ours_test, 10))))
    big = df.sample(n=10_000, replace=True, random_state=0).reset_index(drop=True)

    def ours_test_10k() -> None:
        run_batch_test(run_id="bench", model_id=0, dataset_id=0, df=big, predictor=predictor,
                       classes=classes)  # fmt: skip

    rows.append(("batch test 10,000 rows: product run_batch_test", _ms(_timed(ours_test_10k, 5))))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  median (p95)")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
