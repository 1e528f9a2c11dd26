"""Replicas benchmark (issue 13, "How fast"): two real ``model-api`` processes behind one
address (a round-robin proxy), against one process and against the course's way, in one run:

1. scoring throughput: ``WORKERS`` concurrent clients for ``LOAD_S`` s on the course's score
   route, through the proxy to 1 and to 2 replicas; the course's way is ``model.predict`` per
   request in one process (its route served by uvicorn here);
2. a 10,000-row batch test's time until every record is in ``IrisExtended``: one writer (one
   replica), two writers (the same rows as two 5,000-row tests, one per replica: a run has one
   writer, its lease holder), and the course's one ``put_item`` per record (sampled, extrapolated);
3. a cold score (the first on a replica for a version it has not loaded: registry reads, object
   store, weights) against a warm one.

Replicas share one DynamoDB Local (score, retrain and registry tables, as provisioning makes
them) and one object store; each has its own data directory.
Run: ``uv run --frozen python -m bench replicas`` (or ``make bench BENCH=replicas``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from infra.aws import LOCAL_CREDENTIALS, local_client

from bench._common import course_score_app, dynamodb_local_with_tables
from bench.latency_proxy import LatencyProxy
from bench.replicas_load import percentile, run_load, serve
from bench.scorelog_ways import course_way, new_run, scored
from tests.support.bundled import bundled_rows, cycled_csv
from tests.support.replicas import Replica, clean_env, start_replica
from tests.support.waits import wait_for

SCORE, RETRAIN, REGISTRY = "IrisExtended", "IrisExtendedRetrain", "IrisRegistry"
WORKERS = 16  # concurrent clients of the load generator
LOAD_S = 10.0  # seconds of load per configuration
ROWS = 10_000
COURSE_SAMPLE = 2_000  # the course's put_item per record: this many timed, extrapolated to ROWS
COLD_MODELS = 5  # models trained per replica; each is cold once on the other replica
WARM_REPEATS = 20


def _env(endpoint: str, objects: Path) -> dict[str, str]:
    return clean_env() | {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "IRIS_SCORE_TABLE": SCORE,
        "IRIS_RETRAIN_TABLE": RETRAIN,
        "IRIS_REGISTRY_TABLE": REGISTRY,
        "IRIS_OBJECT_STORE": objects.as_uri(),
        "IRIS_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }


@contextlib.contextmanager
def _replicas(endpoint: str, tmp: Path) -> Iterator[list[Replica]]:
    env = _env(endpoint, tmp / "objects")
    started: list[Replica] = []
    try:
        for name in ("a", "b"):
            started.append(start_replica(name, tmp / name, tmp / f"{name}.log", env))
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


def _port(replica: Replica) -> int:
    return int(replica.url.rsplit(":", 1)[1])


def _train(api: httpx.Client, seed: int, dataset_id: int = 0) -> int:
    r = api.post("/api/models", json={"dataset_id": dataset_id, "epochs": 1, "seed": seed})
    r.raise_for_status()
    ident = int(r.json()["id"])
    wait_for(
        lambda: api.get(f"/api/models/{ident}").json()["status"] in ("ready", "failed"),
        180,
        f"model {ident} to train",
    )
    if api.get(f"/api/models/{ident}").json()["status"] != "ready":
        raise RuntimeError(f"model {ident} failed to train")
    return ident


def _fields() -> dict[str, str]:
    row = bundled_rows()[0]
    return {"fields": ",".join(str(float(v)) for k, v in row.items() if k != "species")}


def throughput(reps: list[Replica], model_id: int) -> list[tuple[str, str]]:
    params, out = _fields(), []
    for n in (1, 2):
        with LatencyProxy([_port(r) for r in reps[:n]]) as proxy:
            url = f"http://127.0.0.1:{proxy.port}/iris/model/{model_id}/score"
            run_load(url, params, WORKERS, 1.0)  # warm every connection and cache
            result = run_load(url, params, WORKERS, LOAD_S)
        out.append((f"score: {n} replica(s) behind the proxy", result.line()))
        print(f"  .. {out[-1][0]}: {out[-1][1]}", flush=True)
    return out


def course_throughput() -> tuple[str, str]:
    """The course's route (``model.predict`` per request) in one process, the same load."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from tests.support.bundled import bundled_frame

    df = bundled_frame()
    x = df.drop(columns=["species"]).to_numpy(np.float32)
    y = df["species"].astype("category").cat.codes.to_numpy()
    keras.utils.set_random_seed(0)
    course = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(10, activation="relu"),
                               keras.layers.Dense(10, activation="relu"),
                               keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    course.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    course.fit(x, y, epochs=1, batch_size=1, verbose=0)  # its cost per predict, not its accuracy
    with serve(course_score_app(course)) as base:
        url, params = f"{base}/iris/model/0/score", _fields()
        run_load(url, params, WORKERS, 1.0)
        result = run_load(url, params, WORKERS, LOAD_S)
    return ("score: course (model.predict per request, 1 process)", result.line())


def _run_count(ddb: object, run_id: str) -> int:
    pages = ddb.get_paginator("query").paginate(  # type: ignore[attr-defined]
        TableName=SCORE,
        KeyConditionExpression="partition_key = :p",
        ExpressionAttributeValues={":p": {"S": run_id}},
        Select="COUNT",
    )
    return sum(p["Count"] for p in pages)


def _logged(endpoint: str, jobs: list[tuple[Replica, int, int, int]]) -> float:
    """Start each (replica, model, data set, rows) batch test at once; seconds until every
    record of every run is in the score table."""
    ddb = local_client(endpoint)

    def post(job: tuple[Replica, int, int, int]) -> str:
        replica, model_id, dataset_id, _ = job
        with replica.client() as api:
            r = api.post(f"/api/models/{model_id}/tests", json={"dataset_id": dataset_id})
        r.raise_for_status()
        return str(r.json()["run_id"])

    start = time.perf_counter()
    with ThreadPoolExecutor(len(jobs)) as pool:
        runs = list(pool.map(post, jobs))
    for run_id, job in zip(runs, jobs, strict=True):
        wait_for(lambda r=run_id, n=job[3]: _run_count(ddb, r) >= n, 600, f"run {run_id} logged",
                 interval=0.5)  # fmt: skip
    return time.perf_counter() - start


def logged(endpoint: str, reps: list[Replica], model_id: int) -> list[tuple[str, str]]:
    a = reps[0]
    with a.client() as api:
        ids = {}
        for rows in (ROWS, ROWS // 2):
            up = api.post("/api/datasets", files={"file": (f"{rows}.csv", cycled_csv(rows),
                                                           "text/csv")})  # fmt: skip
            up.raise_for_status()
            ids[rows] = int(up.json()["id"])
    one = _logged(endpoint, [(a, model_id, ids[ROWS], ROWS)])
    print(f"  .. {ROWS:,} rows logged, 1 writer: {one:.1f} s", flush=True)
    two = _logged(endpoint, [(r, model_id, ids[ROWS // 2], ROWS // 2) for r in reps])
    print(f"  .. {ROWS:,} rows logged, 2 writers: {two:.1f} s", flush=True)
    sample = scored(COURSE_SAMPLE, bundled_rows())
    course = course_way(endpoint, SCORE, new_run(), sample) * ROWS / COURSE_SAMPLE
    return [
        (f"{ROWS:,} rows logged: course (put_item each, {COURSE_SAMPLE:,} timed)",
         f"{course:8.1f} s  ({ROWS / course:6.0f} rows/s, extrapolated)"),
        (f"{ROWS:,} rows logged: 1 writer (1 replica)",
         f"{one:8.1f} s  ({ROWS / one:6.0f} rows/s)"),
        (f"{ROWS:,} rows logged: 2 writers (2 x {ROWS // 2:,}, 1 per replica)",
         f"{two:8.1f} s  ({ROWS / two:6.0f} rows/s)"),
    ]  # fmt: skip


def cold_warm(reps: list[Replica]) -> list[tuple[str, str]]:
    """Models trained on one replica are first scored on the other: the first request is cold."""
    params = _fields()
    trained: list[tuple[Replica, int]] = []  # (replica that has not loaded it, model)

    def train_on(i: int) -> list[tuple[Replica, int]]:
        with reps[i].client() as api:
            return [(reps[1 - i], _train(api, 100 * i + s)) for s in range(COLD_MODELS)]

    with ThreadPoolExecutor(2) as pool:
        for part in pool.map(train_on, (0, 1)):
            trained += part
    cold: list[float] = []
    warm: list[float] = []
    for replica, model_id in trained:
        with replica.client() as api:
            for i in range(WARM_REPEATS + 1):
                t = time.perf_counter()
                api.get(f"/iris/model/{model_id}/score", params=params).raise_for_status()
                (warm if i else cold).append(time.perf_counter() - t)

    def ms(s: list[float]) -> str:
        return f"p50 {percentile(s, 50) * 1e3:7.1f} ms  p95 {percentile(s, 95) * 1e3:7.1f} ms"

    return [
        (f"score cold: first on a replica after promotion ({len(cold)} samples)", ms(cold)),
        (f"score warm: the next ones ({len(warm)} samples)", ms(warm)),
    ]


def main() -> None:
    # the course's way makes its own boto3 resource: point its default credentials at the local ones
    os.environ["AWS_ACCESS_KEY_ID"] = LOCAL_CREDENTIALS["aws_access_key_id"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = LOCAL_CREDENTIALS["aws_secret_access_key"]
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {WORKERS} clients")
    rows: list[tuple[str, str]] = [course_throughput()]
    print(f"  .. {rows[0][0]}: {rows[0][1]}", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="replicas-bench-") as tmp,
        dynamodb_local_with_tables(SCORE, RETRAIN) as server,
        _replicas(server.endpoint_url, Path(tmp)) as reps,
    ):
        with reps[0].client() as api:
            model_id = _train(api, 0)
        rows += throughput(reps, model_id)
        rows += logged(server.endpoint_url, reps, model_id)
        rows += cold_warm(reps)
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(
        f"note: {os.cpu_count()} cores shared by both replicas, DynamoDB Local, the proxy and the "
        f"load generator, so 2 replicas gain less than 2x here; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
