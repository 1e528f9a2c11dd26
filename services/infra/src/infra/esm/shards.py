"""Shard discovery with AWS's ordering rule: a child shard starts only after its parent is drained.

DynamoDB splits and rolls shards over; records for one key move from parent to child, so reading a
child before its parent is finished could reorder writes to the same item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parent_id: str | None
    closed: bool


def list_shards(streams: Any, stream_arn: str) -> list[Shard]:
    """Every shard the stream lists (DescribeStream is paginated by ExclusiveStartShardId)."""
    shards: list[Shard] = []
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        desc = streams.describe_stream(**kwargs)["StreamDescription"]
        for raw in desc.get("Shards", []):
            shards.append(
                Shard(
                    shard_id=raw["ShardId"],
                    parent_id=raw.get("ParentShardId"),
                    closed="EndingSequenceNumber" in raw.get("SequenceNumberRange", {}),
                )
            )
        start = desc.get("LastEvaluatedShardId")
        if not start:
            return shards


def ready_shards(shards: list[Shard], is_done: Callable[[str], bool]) -> list[Shard]:
    """Shards that may be read now: not done, and whose parent is done or no longer listed."""
    listed = {s.shard_id for s in shards}
    return [
        s
        for s in shards
        if not is_done(s.shard_id)
        and (s.parent_id is None or s.parent_id not in listed or is_done(s.parent_id))
    ]
