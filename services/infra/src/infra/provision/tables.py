"""The three tables: the score table (stream NEW_IMAGE, read by the flagger), the retrain table
and model_api's registry.

The score and retrain tables have the record contract's keys (``partition_key`` HASH,
``sort_key`` RANGE, strings); the registry has ``pk``/``sk`` (strings: items grouped by kind in
``pk``, so a listing is one Query). All are on-demand. A table with a stream counts as ready only
once its stream is ENABLED, so no write made after :func:`ensure_table` returns is lost.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.aws import AwsClients, error_code
from infra.config import InfraSettings
from infra.provision.report import Change, ProvisioningError, poll

KEY_SCHEMA = [
    {"AttributeName": "partition_key", "KeyType": "HASH"},
    {"AttributeName": "sort_key", "KeyType": "RANGE"},
]
ATTRIBUTES = [
    {"AttributeName": "partition_key", "AttributeType": "S"},
    {"AttributeName": "sort_key", "AttributeType": "S"},
]
# model_api's registry: one table of metadata, counters, leases and outbox chunks.
REGISTRY_KEY_SCHEMA = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
REGISTRY_ATTRIBUTES = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
]
STREAM_VIEW = "NEW_IMAGE"
# The handler reads NewImage; these view types carry it.
_STREAM_VIEWS_WITH_NEW_IMAGE = {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}


def describe_table(ddb: Any, name: str) -> dict[str, Any] | None:
    """The table's description, or None when it does not exist."""
    try:
        return ddb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _wait_table_active(ddb: Any, name: str, timeout: float, stream: bool) -> dict[str, Any]:
    def ready(table: dict[str, Any] | None) -> bool:
        if table is None or table.get("TableStatus") != "ACTIVE":
            return False
        return not stream or bool(table.get("LatestStreamArn"))

    return poll(lambda: describe_table(ddb, name), ready, timeout, f"table {name} ACTIVE")  # type: ignore[return-value]


def _wait_stream_enabled(streams: Any, table: dict[str, Any], timeout: float) -> None:
    """Wait until the table's stream is ENABLED, not just named in DescribeTable.

    AWS reports a new stream ENABLING for a moment; LocalStack's stream (kinesis-mock) stays
    ENABLING for seconds after the table is ACTIVE and drops the records of every write made in
    that time. DynamoDB Local answers ENABLED at once. Writers may start as soon as this returns.
    """
    arn = table["LatestStreamArn"]
    poll(
        lambda: streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"],
        lambda d: d.get("StreamStatus") == "ENABLED",
        timeout,
        f"the stream of {table['TableName']} ENABLED",
        delay=0.2,
    )


def _check_keys(table: dict[str, Any], key_schema: list[dict[str, str]]) -> None:
    keys = {(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])}
    if keys != {(k["AttributeName"], k["KeyType"]) for k in key_schema}:
        hash_key, range_key = (k["AttributeName"] for k in key_schema)
        raise ProvisioningError(
            f"table {table['TableName']} exists with key schema {sorted(keys)}; it needs "
            f"{hash_key} (HASH, S) and {range_key} (RANGE, S). Choose another table name "
            "(IRIS_SCORE_TABLE / IRIS_RETRAIN_TABLE / IRIS_REGISTRY_TABLE) or remove that table."
        )


def ensure_table(
    ddb: Any,
    name: str,
    *,
    stream: bool,
    timeout: float,
    streams: Any = None,
    keys: tuple[list[dict[str, str]], list[dict[str, str]]] = (KEY_SCHEMA, ATTRIBUTES),
) -> Change:
    """Create the table (on-demand; stream NEW_IMAGE if asked) or bring its stream up to date.

    With ``stream``, ``streams`` (a DynamoDB Streams client) is required: the table counts as
    ready only once its stream is ENABLED, so no write made after this returns is lost.
    ``keys`` is (key schema, attribute definitions): the record contract's unless given.
    """
    if stream and streams is None:
        raise ValueError("ensure_table(stream=True) needs a dynamodbstreams client")
    table = describe_table(ddb, name)
    if table is None:
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": keys[0],
            "AttributeDefinitions": keys[1],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if stream:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW}
        try:
            ddb.create_table(**kwargs)
        except ClientError as exc:  # created concurrently by another provisioner: fine
            if error_code(exc) != "ResourceInUseException":
                raise
        table = _wait_table_active(ddb, name, timeout, stream)
        if stream:
            _wait_stream_enabled(streams, table, timeout)
        return Change("created", "table", name, "stream NEW_IMAGE" if stream else "")
    if table.get("TableStatus") == "DELETING":  # a `down` still finishing: wait, then create
        poll(lambda: describe_table(ddb, name), lambda t: t is None, timeout, f"{name} deleted")
        return ensure_table(ddb, name, stream=stream, timeout=timeout, streams=streams, keys=keys)
    _check_keys(table, keys[0])
    if table.get("TableStatus") != "ACTIVE":
        table = _wait_table_active(ddb, name, timeout, stream=False)
    spec = table.get("StreamSpecification") or {}
    if not stream or spec.get("StreamEnabled"):
        view = spec.get("StreamViewType")
        if stream and view not in _STREAM_VIEWS_WITH_NEW_IMAGE:
            raise ProvisioningError(
                f"table {name} has a {view} stream; the flagger needs NEW_IMAGE. Disable the "
                "stream (update-table --stream-specification StreamEnabled=false) and run again."
            )
        if stream:
            _wait_stream_enabled(streams, table, timeout)
        return Change("unchanged", "table", name)
    ddb.update_table(
        TableName=name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
    )
    table = _wait_table_active(ddb, name, timeout, stream=True)
    _wait_stream_enabled(streams, table, timeout)
    return Change("updated", "table", name, "stream NEW_IMAGE enabled")


def delete_table(ddb: Any, name: str, timeout: float) -> Change:
    """Delete the table if it exists and wait until it is gone."""
    if describe_table(ddb, name) is None:
        return Change("absent", "table", name)
    try:
        ddb.delete_table(TableName=name)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    poll(lambda: describe_table(ddb, name), lambda t: t is None, timeout, f"{name} deleted")
    return Change("deleted", "table", name)


def ensure_tables(settings: InfraSettings, clients: AwsClients) -> list[Change]:
    """The score table (stream NEW_IMAGE), the retrain table and the registry (``pk``/``sk``)."""
    ddb = clients("dynamodb")
    wait = settings.provision_wait_s
    streams = clients("dynamodbstreams")
    return [
        ensure_table(ddb, settings.score_table, stream=True, timeout=wait, streams=streams),
        ensure_table(ddb, settings.retrain_table, stream=False, timeout=wait),
        ensure_table(
            ddb,
            settings.registry_table,
            stream=False,
            timeout=wait,
            keys=(REGISTRY_KEY_SCHEMA, REGISTRY_ATTRIBUTES),
        ),
    ]
