"""Fixtures for the score log tests; helpers live in ``tests.support.scorelog_kit``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from model_api.runs.store import new_run_id

from tests.support.scorelog_kit import Run


@pytest.fixture
def ddb(aws_env: Any) -> Any:
    """A synchronous boto3 client on the test endpoint (for setup and checks)."""
    return boto3.client("dynamodb", **aws_env.client_kwargs())


@pytest.fixture
def tables(ddb: Any, provisioned_tables: dict[str, str]) -> dict[str, str]:
    """A fresh score table and retrain table (the product's provisioning), deleted afterwards."""
    return provisioned_tables


@pytest.fixture
def make_run() -> Callable[..., Run]:
    def make(**kwargs: Any) -> Run:
        return Run(run_id=kwargs.pop("run_id", None) or new_run_id(), **kwargs)

    return make
