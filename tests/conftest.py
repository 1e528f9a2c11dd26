"""Shared fixtures: a real DynamoDB API endpoint for integration tests.

By default a DynamoDB Local server (in memory, on a free port) is started once per test session.
When ``AWS_ENDPOINT_URL`` is set (LocalStack) or ``IRIS_TEST_REAL_AWS=1`` (real AWS through the
standard credential chain), the same tests run against that endpoint instead.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from infra.config import InfraSettings

# Starlette's TestClient sends ``Host: testserver``; model_api's Host allow-list must accept it in
# the in-process tests (the guard tests set their own list).
os.environ.setdefault("IRIS_ALLOWED_HOSTS", "127.0.0.1,localhost,::1,testserver")
from infra.aws import LOCAL_CREDENTIALS, AwsClients, make_clients
from infra.provision import provision_down, provision_up

DEFAULT_REGISTRY = "IrisRegistry"
_shared: dict[str, Any] = {}


def _local_dynamodb() -> str:
    """The session's DynamoDB Local (started on first use, shared with ``aws_endpoint``)."""
    if "server" not in _shared:
        from infra.local.dynamodb_local import DynamoDBLocal, free_port

        _shared["server"] = DynamoDBLocal(port=free_port()).start()
        _shared["url"] = str(_shared["server"].endpoint_url)
    return str(_shared["url"])


def fresh_registry(endpoint_url: str | None, region: str) -> Any:
    """A new, empty registry table on ``endpoint_url`` (else the configured test endpoint, else
    the session's DynamoDB Local), with the provisioned key schema."""
    from infra.provision.tables import REGISTRY_ATTRIBUTES, REGISTRY_KEY_SCHEMA
    from model_api.core.registry import Registry

    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint and os.environ.get("IRIS_TEST_REAL_AWS") != "1":
        endpoint = _local_dynamodb()
    name = f"IrisRegistry-a{uuid.uuid4().hex[:10]}"
    registry = Registry.connect(name, endpoint, region)
    registry.client.create_table(
        TableName=name,
        KeySchema=REGISTRY_KEY_SCHEMA,
        AttributeDefinitions=REGISTRY_ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
    )
    registry.client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    return registry


@pytest.fixture(scope="session")
def make_registry() -> Callable[[str | None, str], Any]:
    """``make_registry(endpoint_url, region)``: a registry on a new table (the caller removes
    it), for fixtures wider than one test."""
    return fresh_registry


@pytest.fixture
def fresh_registry_table(aws_endpoint: Any) -> Iterator[Any]:
    """A registry (``model_api.core.registry.Registry``) on a new table, removed after."""
    registry = fresh_registry(aws_endpoint.url, aws_endpoint.region)
    yield registry
    registry.client.delete_table(TableName=registry.table)


@pytest.fixture(scope="session", autouse=True)
def _registry_per_app() -> Iterator[None]:
    """Every model_api app a test builds without naming a registry table gets a fresh one (one
    per data directory: an app built again on the same one finds its state, as after a restart).

    model_api keeps its metadata in a DynamoDB table (``IRIS_REGISTRY_TABLE``); tests that do not
    set one (most build the app on a temporary data directory) would otherwise share
    ``IrisRegistry``, and so each other's data sets and ids. A fresh table per app, on the test
    endpoint (the session's DynamoDB Local unless one is configured), keeps them apart without a
    server per test. Tests that name their table (provisioned, replicas) are left alone.
    """
    try:
        from model_api import deps
    except ImportError:
        yield
        return
    real = deps.open_registry
    made: list[Any] = []  # removed at the end where they outlive the session (not in memory)

    by_data_dir: dict[tuple[str, str | None], Any] = {}

    def fresh(settings: Any) -> Any:
        if settings.registry_table != DEFAULT_REGISTRY:
            return real(settings)
        # one table per data directory: an app built again on it is a restart of the same service
        key = (str(Path(settings.data_dir).resolve()), settings.aws_endpoint_url)
        if key not in by_data_dir:
            registry = fresh_registry(settings.aws_endpoint_url, settings.aws_region)
            if registry.client.meta.endpoint_url != _shared.get("url"):
                made.append(registry)
            by_data_dir[key] = registry
        return by_data_dir[key]

    deps.open_registry = fresh
    try:
        yield
    finally:
        deps.open_registry = real
        for registry in made:
            with contextlib.suppress(Exception):
                registry.client.delete_table(TableName=registry.table)
        if "server" in _shared:
            _shared.pop("server").stop()


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

    def child_env(self) -> dict[str, str]:
        """The standard AWS variables that point a child process (a service) at this endpoint."""
        env = {"AWS_DEFAULT_REGION": self.region}
        if self.url:
            env["AWS_ENDPOINT_URL"] = self.url
        if self.is_local_engine:
            env |= {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
        return env


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
    yield AwsEndpoint(url=_local_dynamodb(), region=region, is_local_engine=True)


def _point_env(monkeypatch: pytest.MonkeyPatch, aws_endpoint: AwsEndpoint) -> AwsEndpoint:
    if aws_endpoint.url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws_endpoint.region)
    if aws_endpoint.is_local_engine:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    return aws_endpoint


@pytest.fixture
def aws_env(aws_endpoint: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> AwsEndpoint:
    """Point the standard AWS variables at the test endpoint for code that reads them."""
    return _point_env(monkeypatch, aws_endpoint)


def _unique_table_names() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {
        "score": f"IrisExtended-t{suffix}",
        "retrain": f"IrisExtendedRetrain-t{suffix}",
        "registry": f"IrisRegistry-t{suffix}",
    }


@pytest.fixture
def table_names() -> dict[str, str]:
    """Unique table names per test, so tests never share state on a shared endpoint."""
    return _unique_table_names()


@pytest.fixture
def infra_settings(aws_endpoint: AwsEndpoint, table_names: dict[str, str]) -> InfraSettings:
    """Provisioning settings for this test's tables on the test endpoint."""
    return _infra_settings(aws_endpoint, table_names)


def _infra_settings(aws_endpoint: AwsEndpoint, table_names: dict[str, str]) -> InfraSettings:
    return InfraSettings(
        aws_endpoint_url=aws_endpoint.url,
        aws_region=aws_endpoint.region,
        score_table=table_names["score"],
        retrain_table=table_names["retrain"],
        registry_table=table_names["registry"],
        provision_wait_s=120,
    )


@pytest.fixture
def infra_clients(aws_endpoint: AwsEndpoint, infra_settings: InfraSettings) -> AwsClients:
    """Provisioning clients: dummy credentials for the local engine, the standard chain else."""
    return _infra_clients(aws_endpoint, infra_settings)


def _infra_clients(aws_endpoint: AwsEndpoint, infra_settings: InfraSettings) -> AwsClients:
    return make_clients(infra_settings, LOCAL_CREDENTIALS if aws_endpoint.is_local_engine else None)


@pytest.fixture
def provisioned_tables(
    infra_settings: InfraSettings, infra_clients: AwsClients, table_names: dict[str, str]
) -> Iterator[dict[str, str]]:
    """This test's score, retrain and registry tables, made by the product's provisioning;
    removed after.

    Tests exercise the real ``provision_up`` (score table with stream NEW_IMAGE, retrain table,
    registry) rather than a hand-written copy that could drift from it.
    """
    provision_up(infra_settings, with_lambda=False, clients=infra_clients)
    yield table_names
    provision_down(infra_settings, with_lambda=False, clients=infra_clients)


@pytest.fixture(scope="module")
def module_aws_tables(aws_endpoint: AwsEndpoint) -> Iterator[dict[str, str]]:
    """``provisioned_tables`` (with ``aws_env``'s variables) shared by one test module: for
    modules whose tests share an expensive start (a trained model) but keep their own runs."""
    names = _unique_table_names()
    settings = _infra_settings(aws_endpoint, names)
    clients = _infra_clients(aws_endpoint, settings)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _point_env(monkeypatch, aws_endpoint)
        provision_up(settings, with_lambda=False, clients=clients)
        try:
            yield names
        finally:
            provision_down(settings, with_lambda=False, clients=clients)


StreamReader = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def read_stream(aws_endpoint: AwsEndpoint) -> StreamReader:
    """``read(table, count, keep=None, timeout=60)``: the table's stream records, read with the
    Streams API from TRIM_HORIZON, once ``count`` (kept) records are there.

    DynamoDB Local makes a write readable at once; LocalStack's stream delivers it seconds later.
    So the reader waits for the records the test expects (bounded), re-reading from the start each
    time, and returns what is there at the deadline for the test's assertion to judge.
    """
    import boto3

    ddb = boto3.client("dynamodb", **aws_endpoint.client_kwargs())
    streams = boto3.client("dynamodbstreams", **aws_endpoint.client_kwargs())

    def read_once(arn: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                records += page["Records"]
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return records

    def read(
        table: str,
        count: int,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 60.0,
    ) -> list[dict[str, Any]]:
        arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        deadline = time.monotonic() + timeout
        while True:
            records = [r for r in read_once(arn) if keep is None or keep(r)]
            if len(records) >= count or time.monotonic() >= deadline:
                return records
            time.sleep(0.5)

    return read


@pytest.fixture(scope="session")
def s3_endpoint(aws_endpoint: AwsEndpoint) -> Iterator[AwsEndpoint]:
    """A real S3 API: the configured endpoint (LocalStack, AWS), else moto's server started for
    this session (DynamoDB Local has no S3)."""
    if not aws_endpoint.is_local_engine:
        yield aws_endpoint
        return
    from infra.local.dynamodb_local import free_port
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield AwsEndpoint(url=f"http://127.0.0.1:{port}", region="us-east-1", is_local_engine=True)
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: AwsEndpoint) -> Iterator[str]:
    """A fresh bucket on the S3 endpoint, emptied and removed after the test."""
    import boto3

    s3 = boto3.client("s3", **s3_endpoint.client_kwargs())
    name = f"iris-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)
