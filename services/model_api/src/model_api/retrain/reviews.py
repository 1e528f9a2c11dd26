"""Review decisions, stored on the candidate's own item in the retrain table.

An ``UpdateItem`` (never a rewrite of the item) sets ``review`` and appends the same decision to
``review_history``, so every process sees it and it survives restarts. Two reviews of one
candidate at once: both are appended to the history, and ``review`` ends as the one with the
later ``reviewed_at`` (a condition on the stored time; the loser only appends).
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from iris_common.clock import utc_now

from model_api.core.errors import ApiError, not_found

DECISIONS = ("relabel", "keep", "exclude")
_ser = TypeSerializer()


def wire(value: Any) -> dict[str, Any]:
    return _ser.serialize(value)


def review_record(decision: str, label: str | None, reviewer: str, source: str) -> dict[str, Any]:
    return {
        "decision": decision,
        "label": label,
        "reviewer": reviewer,
        "reviewed_at": utc_now(),
        "source": source,  # "manual" or "accept_suggestions"
    }


def _aws_error(table: str, exc: Exception) -> ApiError:
    return ApiError(503, "aws_unavailable", f"table {table} cannot be updated: {exc}")


async def get_item(client: Any, table: str, key: tuple[str, str]) -> dict[str, Any] | None:
    try:
        out = await client.get_item(
            TableName=table,
            Key={"partition_key": {"S": key[0]}, "sort_key": {"S": key[1]}},
            ConsistentRead=True,
        )
    except (ClientError, BotoCoreError, OSError) as exc:
        raise _aws_error(table, exc) from exc
    return out.get("Item")


async def store_review(
    client: Any, table: str, key: tuple[str, str], review: dict[str, Any]
) -> None:
    """Record ``review`` on the item: set it unless a later one is there; always append."""
    dkey = {"partition_key": {"S": key[0]}, "sort_key": {"S": key[1]}}
    values = {
        ":r": wire(review),
        ":h": wire([review]),
        ":e": {"L": []},
        ":t": wire(review["reviewed_at"]),
    }
    try:
        await client.update_item(
            TableName=table,
            Key=dkey,
            UpdateExpression="SET review = :r, "
            "review_history = list_append(if_not_exists(review_history, :e), :h)",
            ConditionExpression="attribute_exists(partition_key) AND "
            "(attribute_not_exists(review) OR review.reviewed_at <= :t)",
            ExpressionAttributeValues=values,
        )
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise _aws_error(table, exc) from exc
    except (BotoCoreError, OSError) as exc:
        raise _aws_error(table, exc) from exc
    # Either the item is gone, or a later review is already stored: keep it, record ours.
    try:
        await client.update_item(
            TableName=table,
            Key=dkey,
            UpdateExpression="SET review_history = "
            "list_append(if_not_exists(review_history, :e), :h)",
            ConditionExpression="attribute_exists(partition_key)",
            ExpressionAttributeValues={":h": values[":h"], ":e": values[":e"]},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise not_found("candidate", f"{key[0]}/{key[1]}") from exc
        raise _aws_error(table, exc) from exc
    except (BotoCoreError, OSError) as exc:
        raise _aws_error(table, exc) from exc
