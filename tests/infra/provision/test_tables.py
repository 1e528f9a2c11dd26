"""Provisioning of the three tables against a real DynamoDB API (DynamoDB Local by default).

These run unchanged against LocalStack or AWS when ``AWS_ENDPOINT_URL``/credentials point there
(the Lambda part is then switched off explicitly: it has its own moto-server tests).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from infra.aws import AwsClients, endpoint_supports_lambda
from infra.config import InfraSettings
from infra.provision import ProvisioningError, provision_down, provision_up
from infra.provision.cli import main as cli_main

pytestmark = pytest.mark.integration


def _key_schema(hash_key: str, range_key: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A HASH + RANGE key of two strings: its KeySchema and AttributeDefinitions."""
    keys = [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]
    return keys, [{"AttributeName": name, "AttributeType": "S"} for name in (hash_key, range_key)]


# Written from docs/contract.md, not imported from infra.provision: the check must not be circular.
CONTRACT_KEYS, CONTRACT_ATTRS = _key_schema("partition_key", "sort_key")
# model_api's registry (architecture: items grouped by kind in pk, so a listing is one Query).
REGISTRY_KEYS, REGISTRY_ATTRS = _key_schema("pk", "sk")
TABLES = ("score_table", "retrain_table", "registry_table")


@pytest.fixture
def settings(infra_settings: InfraSettings) -> InfraSettings:
    """Short name for the shared fixture (tests/conftest.py) in these provisioning tests."""
    return infra_settings


@pytest.fixture
def clients(infra_clients: AwsClients) -> AwsClients:
    return infra_clients


@pytest.fixture
def ddb(aws_endpoint: Any) -> Any:
    return boto3.client("dynamodb", **aws_endpoint.client_kwargs())


def _exists(ddb: Any, name: str) -> bool:
    try:
        ddb.describe_table(TableName=name)
        return True
    except ddb.exceptions.ResourceNotFoundException:
        return False


def _snapshot(ddb: Any, name: str) -> dict[str, Any]:
    """The parts of a table that provisioning decides (creation time included: no re-create)."""
    t = ddb.describe_table(TableName=name)["Table"]
    return {
        "keys": t["KeySchema"],
        "attrs": sorted(t["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "billing": t.get("BillingModeSummary", {}).get("BillingMode"),
        "stream": t.get("StreamSpecification"),
        "stream_arn": t.get("LatestStreamArn"),
        "created": t["CreationDateTime"],
        "status": t["TableStatus"],
    }


def test_up_creates_the_tables_as_the_contract_says(settings, clients, ddb):
    report = provision_up(settings, with_lambda=False, clients=clients)

    assert [(c.action, c.kind, c.name) for c in report.changes] == [
        ("created", "table", settings.score_table),
        ("created", "table", settings.retrain_table),
        ("created", "table", settings.registry_table),
    ]
    score = _snapshot(ddb, settings.score_table)
    retrain = _snapshot(ddb, settings.retrain_table)
    for table in (score, retrain):
        assert table["keys"] == CONTRACT_KEYS
        assert table["attrs"] == CONTRACT_ATTRS
        assert table["billing"] == "PAY_PER_REQUEST"
        assert table["status"] == "ACTIVE"
    assert score["stream"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert score["stream_arn"]
    assert not (retrain["stream"] or {}).get("StreamEnabled")
    registry = _snapshot(ddb, settings.registry_table)
    assert registry["keys"] == REGISTRY_KEYS
    assert registry["attrs"] == REGISTRY_ATTRS
    assert registry["billing"] == "PAY_PER_REQUEST"
    assert registry["status"] == "ACTIVE"
    assert not (registry["stream"] or {}).get("StreamEnabled")
    provision_down(settings, with_lambda=False, clients=clients)


def test_every_write_right_after_up_is_on_the_stream(settings, clients, ddb, read_stream):
    """``up`` returns only once the stream is ENABLED. LocalStack's stream stays ENABLING for a
    while after the table is ACTIVE and drops the writes made then; DynamoDB Local and AWS
    enable it at once or in a moment. Either way no write made after ``up`` may be lost."""
    provision_up(settings, with_lambda=False, clients=clients)
    streams = clients("dynamodbstreams")
    arn = ddb.describe_table(TableName=settings.score_table)["Table"]["LatestStreamArn"]
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] == "ENABLED"
    for row in range(10):
        ddb.put_item(
            TableName=settings.score_table,
            Item={"partition_key": {"S": "run-1"}, "sort_key": {"S": f"{row:06d}"}},
        )
    records = read_stream(settings.score_table, 10)
    assert sorted(r["dynamodb"]["Keys"]["sort_key"]["S"] for r in records) == [
        f"{row:06d}" for row in range(10)
    ]
    provision_down(settings, with_lambda=False, clients=clients)


def test_up_twice_changes_nothing(settings, clients, ddb):
    provision_up(settings, with_lambda=False, clients=clients)
    before = [_snapshot(ddb, getattr(settings, n)) for n in TABLES]
    ddb.put_item(
        TableName=settings.score_table,
        Item={"partition_key": {"S": "run-1"}, "sort_key": {"S": "000000"}},
    )

    again = provision_up(settings, with_lambda=False, clients=clients)

    assert not again.changed
    assert {c.action for c in again.changes} == {"unchanged"}
    after = [_snapshot(ddb, getattr(settings, n)) for n in TABLES]
    assert after == before
    item = ddb.get_item(
        TableName=settings.score_table,
        Key={"partition_key": {"S": "run-1"}, "sort_key": {"S": "000000"}},
    )
    assert "Item" in item  # data survives a second `up`
    provision_down(settings, with_lambda=False, clients=clients)


def test_existing_table_without_stream_gets_its_stream(settings, clients, ddb):
    ddb.create_table(
        TableName=settings.score_table,
        KeySchema=CONTRACT_KEYS,
        AttributeDefinitions=CONTRACT_ATTRS,
        BillingMode="PAY_PER_REQUEST",  # and deliberately no stream
    )
    ddb.get_waiter("table_exists").wait(TableName=settings.score_table)
    assert not ddb.describe_table(TableName=settings.score_table)["Table"].get("LatestStreamArn")

    report = provision_up(settings, with_lambda=False, clients=clients)

    score_change = report.changes[0]
    assert (score_change.action, score_change.name) == ("updated", settings.score_table)
    assert "stream" in score_change.detail
    table = ddb.describe_table(TableName=settings.score_table)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["LatestStreamArn"]
    assert not provision_up(settings, with_lambda=False, clients=clients).changed
    provision_down(settings, with_lambda=False, clients=clients)


def test_table_with_wrong_keys_is_refused_not_changed(settings, clients, ddb):
    ddb.create_table(
        TableName=settings.retrain_table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=settings.retrain_table)

    with pytest.raises(ProvisioningError, match="key schema"):
        provision_up(settings, with_lambda=False, clients=clients)

    keys = ddb.describe_table(TableName=settings.retrain_table)["Table"]["KeySchema"]
    assert keys == [{"AttributeName": "id", "KeyType": "HASH"}]
    provision_down(settings, with_lambda=False, clients=clients)


def test_registry_with_the_record_keys_is_refused_not_changed(settings, clients, ddb):
    """The registry's keys are pk/sk: a table of that name with the record contract's keys is
    another table, not ours to change."""
    ddb.create_table(
        TableName=settings.registry_table,
        KeySchema=CONTRACT_KEYS,
        AttributeDefinitions=CONTRACT_ATTRS,
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=settings.registry_table)

    with pytest.raises(ProvisioningError, match="pk \\(HASH, S\\)"):
        provision_up(settings, with_lambda=False, clients=clients)

    keys = ddb.describe_table(TableName=settings.registry_table)["Table"]["KeySchema"]
    assert keys == CONTRACT_KEYS
    provision_down(settings, with_lambda=False, clients=clients)


def test_down_removes_the_tables_and_is_idempotent(settings, clients, ddb):
    provision_up(settings, with_lambda=False, clients=clients)

    down = provision_down(settings, with_lambda=False, clients=clients)
    assert [(c.action, c.name) for c in down.changes] == [
        ("deleted", settings.score_table),
        ("deleted", settings.retrain_table),
        ("deleted", settings.registry_table),
    ]
    assert not _exists(ddb, settings.score_table)
    assert not _exists(ddb, settings.retrain_table)
    assert not _exists(ddb, settings.registry_table)

    again = provision_down(settings, with_lambda=False, clients=clients)
    assert [c.action for c in again.changes] == ["absent", "absent", "absent"]


def test_down_keep_tables_keeps_them(settings, clients, ddb):
    provision_up(settings, with_lambda=False, clients=clients)
    report = provision_down(settings, with_lambda=False, keep_tables=True, clients=clients)
    assert report.changes == []
    assert _exists(ddb, settings.score_table)
    provision_down(settings, with_lambda=False, clients=clients)


def test_lambda_detection_matches_the_endpoint(aws_endpoint, clients):
    """The default for --with-lambda: off on DynamoDB Local (no Lambda/SQS/IAM there), on else."""
    assert endpoint_supports_lambda(clients) is (not aws_endpoint.is_local_engine)


def test_cli_up_status_down(aws_env, settings, ddb, monkeypatch, capsys):
    monkeypatch.setenv("IRIS_SCORE_TABLE", settings.score_table)
    monkeypatch.setenv("IRIS_RETRAIN_TABLE", settings.retrain_table)
    monkeypatch.setenv("IRIS_REGISTRY_TABLE", settings.registry_table)

    assert cli_main(["up", "--no-with-lambda"]) == 0
    out = capsys.readouterr().out
    assert f"created   table    {settings.score_table}" in out
    assert cli_main(["up", "--no-with-lambda"]) == 0
    assert "nothing to do" in capsys.readouterr().out

    assert cli_main(["status", "--no-with-lambda"]) == 0
    status_out = capsys.readouterr().out
    assert settings.score_table in status_out
    assert settings.registry_table in status_out

    # `down` without --yes on a non-interactive stdin refuses and deletes nothing
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli_main(["down", "--no-with-lambda"]) == 1
    assert _exists(ddb, settings.score_table)
    assert cli_main(["down", "--no-with-lambda", "--yes"]) == 0
    assert not _exists(ddb, settings.score_table)
    assert not _exists(ddb, settings.registry_table)
