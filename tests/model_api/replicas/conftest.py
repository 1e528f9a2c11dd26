"""Two ``model-api`` processes (``uv run --frozen model-api``) as one service: different data
directories, the same AWS endpoint and tables; short leases so a takeover takes seconds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.replicas import Replica, clean_env, start_replica

LEASE_SECONDS = 2.0


Spawn = Callable[..., Replica]  # spawn(name, data_dir, **extra IRIS_* variables)


@pytest.fixture
def spawn(aws_endpoint: Any, provisioned_tables: dict[str, str], tmp_path: Path) -> Iterator[Spawn]:
    """``spawn(name, data_dir, **env)``: start a replica (not waited for), ``env`` added to its
    environment (e.g. ``IRIS_REPLICA_ID``); all stopped afterwards."""
    base = (
        clean_env()
        | aws_endpoint.child_env()
        | {
            "IRIS_SCORE_TABLE": provisioned_tables["score"],
            "IRIS_RETRAIN_TABLE": provisioned_tables["retrain"],
            "IRIS_REGISTRY_TABLE": provisioned_tables["registry"],
            "IRIS_OBJECT_STORE": (tmp_path / "objects").as_uri(),  # shared, as the registry is
            "IRIS_LEASE_SECONDS": str(LEASE_SECONDS),
            "IRIS_MAX_EPOCHS": "60",
            "IRIS_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    started: list[Replica] = []

    def start(name: str, data_dir: Path, **extra: str) -> Replica:
        replica = start_replica(name, data_dir, tmp_path / f"{name}.log", base | extra)
        started.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in started:
            replica.stop()


@pytest.fixture
def replicas(spawn: Spawn, tmp_path: Path) -> list[Replica]:
    """Two ready replicas, ``a`` and ``b``, each with its own data directory."""
    started = [spawn(name, tmp_path / name) for name in ("a", "b")]
    for replica in started:
        replica.wait_ready()
    return started
