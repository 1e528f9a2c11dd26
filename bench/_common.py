"""What the benchmarks share: tables made by the product's provisioning, on a DynamoDB Local.

Benchmarks measure the product as it runs, so their tables come from ``infra.provision`` (score
table with stream NEW_IMAGE, retrain table) rather than a hand-written copy that could drift.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.aws import LOCAL_CREDENTIALS, local_client, make_clients
from infra.config import InfraSettings
from infra.local.dynamodb_local import DynamoDBLocal, free_port
from infra.provision.report import Change
from infra.provision.tables import ensure_table, ensure_tables

PROVISION_WAIT_S = 120.0


def provision_tables(endpoint_url: str, score: str, retrain: str | None = None) -> list[Change]:
    """The score table (and the retrain table, if named) on a local endpoint, as ``up`` does."""
    if retrain is None:
        ddb, streams = (
            local_client(endpoint_url),
            local_client(endpoint_url, service="dynamodbstreams"),
        )
        return [ensure_table(ddb, score, stream=True, timeout=PROVISION_WAIT_S, streams=streams)]
    settings = InfraSettings(
        aws_endpoint_url=endpoint_url,
        score_table=score,
        retrain_table=retrain,
        provision_wait_s=PROVISION_WAIT_S,
    )
    return ensure_tables(settings, make_clients(settings, LOCAL_CREDENTIALS))


@contextlib.contextmanager
def dynamodb_local_with_tables(
    score: str, retrain: str | None = None, data_dir: Path | None = None
) -> Iterator[DynamoDBLocal]:
    """A DynamoDB Local on a free port (in memory unless ``data_dir``) holding the tables."""
    with DynamoDBLocal(port=free_port(), data_dir=data_dir) as server:
        provision_tables(server.endpoint_url, score, retrain)
        yield server


def course_score_app(course: Any) -> Any:
    """The course's scoring route as a FastAPI app: parse ``fields``, ``model.predict`` per
    request (``course`` is a Keras model of the course's shape)."""
    import numpy as np
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/iris/model/{n}/score")
    def score(n: int, fields: str) -> str:
        row = np.array([[float(v) for v in fields.split(",")]], dtype=np.float32)
        return ["setosa", "versicolor", "virginica"][int(course.predict(row, verbose=0).argmax())]

    return app
