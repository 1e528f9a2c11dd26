"""The registry: model_api's shared state (metadata, counters, leases, outbox) in one DynamoDB
table, so every replica sees the same service.

The table (``IRIS_REGISTRY_TABLE``, provisioned by ``iris-provision``) has string keys ``pk`` and
``sk``; items are grouped by kind in ``pk`` (``dataset``, ``counter``, ``lease``,
``outbox#<run>``…) so a listing is one Query. This wrapper is synchronous (boto3): callers on the
event loop run it in a thread. It speaks plain Python values (``registry_wire`` converts them:
floats go in as ``Decimal``, integral numbers come back as ``int``, NaN and infinity are
refused). Reads are strongly consistent: a replica must see what another one has just written
(a lease, a job's state).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from model_api.core.registry_wire import Item, attributes, deserialize, serialize

# Short timeouts, few retries: a registry call sits on a request's path or a heartbeat.
CLIENT_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10
)


class ConditionFailed(Exception):
    """A conditional write found the item not as required (e.g. a lease held by another)."""


def registry_client(endpoint_url: str | None, region: str) -> Any:
    """A boto3 DynamoDB client for the configured endpoint (standard credential chain).

    A custom endpoint (DynamoDB Local, LocalStack) with no credentials anywhere gets the
    placeholder ``local`` pair, as infra's client factory does; real AWS never gets them.
    """
    session = boto3.Session(region_name=region)
    if endpoint_url and session.get_credentials() is None:
        session = boto3.Session(
            region_name=region, aws_access_key_id="local", aws_secret_access_key="local"
        )
    return session.client("dynamodb", endpoint_url=endpoint_url, config=CLIENT_CONFIG)


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class Registry:
    """Typed get / conditional put / update / query / delete / counters on the registry table.

    Conditions are DynamoDB condition expressions; their placeholders (``names``: ``#x`` → an
    attribute, ``values``: ``:x`` → a plain value) must not start with ``#u`` / ``:u``, which
    :meth:`update` uses for its own.
    """

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @classmethod
    def connect(cls, table: str, endpoint_url: str | None, region: str) -> Registry:
        return cls(registry_client(endpoint_url, region), table)

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def _expr(
        self,
        condition: str | None,
        names: Mapping[str, str] | None,
        values: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if values:
            kwargs["ExpressionAttributeValues"] = serialize(values)
        return kwargs

    def _write(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, method)(TableName=self.table, **kwargs)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(f"{method} on {kwargs.get('Key') or ''}: condition") from exc
            raise

    def get(self, pk: str, sk: str) -> Item | None:
        """The item (without ``pk``/``sk``), or None; strongly consistent."""
        response = self.client.get_item(
            TableName=self.table, Key=self._key(pk, sk), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return attributes(response["Item"])

    def put(
        self,
        pk: str,
        sk: str,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the whole item; with ``condition``, only if it holds (else ConditionFailed)."""
        if "pk" in item or "sk" in item:
            raise ValueError("pk and sk are the key: pass them as arguments, not in the item")
        body = serialize(item) | self._key(pk, sk)
        self._write("put_item", Item=body, **self._expr(condition, names, values))

    def put_new(self, pk: str, sk: str, item: Mapping[str, Any]) -> None:
        """Write the item only if none has this key yet (else ConditionFailed)."""
        self.put(pk, sk, item, condition="attribute_not_exists(pk)")

    def update(
        self,
        pk: str,
        sk: str,
        *,
        set: Mapping[str, Any] | None = None,  # DynamoDB's word for it
        add: Mapping[str, int | float] | None = None,
        remove: Sequence[str] = (),
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Item:
        """SET / ADD / REMOVE attributes (creating the item if absent, unless ``condition``
        says otherwise); returns the item as it is after the update."""
        all_names: dict[str, str] = dict(names or {})
        all_values: dict[str, Any] = dict(values or {})
        clauses: list[str] = []
        n = 0

        def placeholder(attr: str, value: Any = None, with_value: bool = True) -> tuple[str, str]:
            nonlocal n
            name, val = f"#u{n}", f":u{n}"
            n += 1
            all_names[name] = attr
            if with_value:
                all_values[val] = value
            return name, val

        if set:
            parts = [" = ".join(placeholder(k, v)) for k, v in set.items()]
            clauses.append("SET " + ", ".join(parts))
        if add:
            parts = [" ".join(placeholder(k, v)) for k, v in add.items()]
            clauses.append("ADD " + ", ".join(parts))
        if remove:
            parts = [placeholder(k, with_value=False)[0] for k in remove]
            clauses.append("REMOVE " + ", ".join(parts))
        if not clauses:
            raise ValueError("update needs at least one of set, add or remove")
        if {"pk", "sk"} & ({*(set or {}), *(add or {}), *remove}):
            raise ValueError("pk and sk are the key and cannot be updated")
        response = self._write(
            "update_item",
            Key=self._key(pk, sk),
            UpdateExpression=" ".join(clauses),
            ReturnValues="ALL_NEW",
            **self._expr(condition, all_names, all_values),
        )
        return attributes(response.get("Attributes", {}))

    def delete(
        self,
        pk: str,
        sk: str,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete the item (absent is fine); with ``condition``, only if it holds."""
        self._write("delete_item", Key=self._key(pk, sk), **self._expr(condition, names, values))

    def query(
        self, pk: str, *, prefix: str | None = None, descending: bool = False
    ) -> list[tuple[str, Item]]:
        """Every item of ``pk`` (``sk`` starting with ``prefix``), as (sk, item) in sk order."""
        return list(self.iter_query(pk, prefix=prefix, descending=descending))

    def iter_query(
        self, pk: str, *, prefix: str | None = None, descending: bool = False
    ) -> Iterator[tuple[str, Item]]:
        """:meth:`query` page by page, for partitions too large to hold at once."""
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if prefix:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": prefix}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
            "ScanIndexForward": not descending,
        }
        while True:
            page = self.client.query(**kwargs)
            for raw in page.get("Items", []):
                item = deserialize(raw)
                item.pop("pk", None)
                yield str(item.pop("sk")), item
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def keys(self, pk: str) -> list[str]:
        """The sort keys of ``pk``'s items, without reading their attributes."""
        keys: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            keys += [raw["sk"]["S"] for raw in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return keys
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def write_many(
        self,
        puts: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
        deletes: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Unconditional puts and deletes in BatchWriteItem requests of 25, re-sending what
        DynamoDB leaves unprocessed (with a short back-off) until every one is done."""
        requests: list[dict[str, Any]] = [
            {"PutRequest": {"Item": serialize(item) | self._key(pk, sk)}} for pk, sk, item in puts
        ]
        requests += [{"DeleteRequest": {"Key": self._key(pk, sk)}} for pk, sk in deletes]
        for start in range(0, len(requests), 25):
            pending = requests[start : start + 25]
            for attempt in range(12):
                response = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table, [])
                if not pending:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError(f"{len(pending)} registry writes stayed unprocessed")

    def next_id(self, kind: str) -> int:
        """The next id of ``kind`` (0, 1, 2, …, never reused): an atomic ADD on
        ``pk="counter"``, ``sk=kind`` (``value`` = ids handed out), so two replicas never hand
        out the same id."""
        item = self.update("counter", kind, add={"value": 1})
        return int(item["value"]) - 1

    def describe(self) -> dict[str, Any]:
        """The table's description (readiness checks)."""
        return self.client.describe_table(TableName=self.table)["Table"]
