"""Shared fixtures: a real DynamoDB API endpoint for integration tests.

By default a DynamoDB Local server (in memory, on a free port) is started once per test session.
When ``AWS_ENDPOINT_URL`` is set (LocalStack) or ``IRIS_TEST_REAL_AWS=1`` (real AWS through the
standard credential chain), the same tests run against that endpoint instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class AwsEndpoint:
    """Where the integration tests send AWS API calls."""

    url: str | None  # None means real AWS
    region: str
    is_local_engine: bool  # True for the DynamoDB Local started here

    def client_kwargs(self) -> dict[str, str]:
        kwargs: dict[str, str] = {"region_name": self.region}
        if self.url:
            kwargs["endpoint_url"] = self.url
        if self.is_local_engine:
            kwargs |= {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        return kwargs


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[AwsEndpoint]:
    """A real DynamoDB API: the configured one, else DynamoDB Local started for this session."""
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    if os.environ.get("IRIS_TEST_REAL_AWS") == "1":
        yield AwsEndpoint(url=None, region=region, is_local_engine=False)
        return
    if os.environ.get("AWS_ENDPOINT_URL"):
        yield AwsEndpoint(url=os.environ["AWS_ENDPOINT_URL"], region=region, is_local_engine=False)
        return
    from infra.dynamodb_local import DynamoDBLocal, free_port

    with DynamoDBLocal(port=free_port()) as server:
        yield AwsEndpoint(url=server.endpoint_url, region=region, is_local_engine=True)


@pytest.fixture
def aws_env(aws_endpoint: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> AwsEndpoint:
    """Point the standard AWS variables at the test endpoint for code that reads them."""
    if aws_endpoint.url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws_endpoint.region)
    if aws_endpoint.is_local_engine:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    return aws_endpoint


@pytest.fixture
def table_names() -> dict[str, str]:
    """Unique table names per test, so tests never share state on a shared endpoint."""
    suffix = uuid.uuid4().hex[:8]
    return {"score": f"IrisExtended-t{suffix}", "retrain": f"IrisExtendedRetrain-t{suffix}"}
