"""Shard ordering, the checkpoint file and the Lambda event shape (no AWS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from infra.esm.checkpoint import CheckpointStore, ShardCheckpoint
from infra.esm.events import to_lambda_record
from infra.esm.shards import Shard, list_shards, ready_shards


def test_children_wait_for_their_parent_to_be_drained():
    shards = [
        Shard("parent", None, closed=True),
        Shard("child", "parent", closed=False),
        Shard("orphan", "trimmed-away", closed=False),
    ]
    done: set[str] = set()
    assert [s.shard_id for s in ready_shards(shards, done.__contains__)] == ["parent", "orphan"]
    done.add("parent")
    assert [s.shard_id for s in ready_shards(shards, done.__contains__)] == ["child", "orphan"]


class PagedStreams:
    """DescribeStream answering in pages, as AWS does for streams with many shards."""

    def __init__(self) -> None:
        self.pages = {
            None: {
                "Shards": [
                    {
                        "ShardId": "a",
                        "SequenceNumberRange": {
                            "StartingSequenceNumber": "1",
                            "EndingSequenceNumber": "9",
                        },
                    }
                ],
                "LastEvaluatedShardId": "a",
            },
            "a": {
                "Shards": [
                    {
                        "ShardId": "b",
                        "ParentShardId": "a",
                        "SequenceNumberRange": {"StartingSequenceNumber": "10"},
                    }
                ]
            },
        }

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None):
        return {"StreamDescription": self.pages[ExclusiveStartShardId]}


def test_list_shards_follows_pagination_and_reads_closed_state():
    assert list_shards(PagedStreams(), "arn") == [
        Shard("a", None, closed=True),
        Shard("b", "a", closed=False),
    ]


def test_checkpoint_survives_a_new_store_and_is_valid_json(tmp_path):
    path = tmp_path / "esm" / "checkpoints.json"
    store = CheckpointStore(path)
    assert store.get("arn", "s1") is None
    store.save("arn", "s1", "000000000000000000042")
    store.save("arn", "s2", "7", done=True)
    reopened = CheckpointStore(path)
    assert reopened.get("arn", "s1") == ShardCheckpoint("000000000000000000042", done=False)
    assert reopened.is_done("arn", "s2")
    assert reopened.get("other-arn", "s1") is None
    json.loads(path.read_text())
    assert [p.name for p in path.parent.iterdir()] == ["checkpoints.json"]  # no temp files left


def test_marking_done_keeps_the_last_sequence_number(tmp_path):
    store = CheckpointStore(tmp_path / "cp.json")
    store.save("arn", "s1", "5")
    store.save("arn", "s1", None, done=True)
    assert store.get("arn", "s1") == ShardCheckpoint("5", done=True)


def test_forget_missing_drops_only_done_shards_no_longer_listed(tmp_path):
    store = CheckpointStore(tmp_path / "cp.json")
    store.save("arn", "old", "5", done=True)
    store.save("arn", "live", "6")
    store.forget_missing("arn", {"live"})
    assert store.get("arn", "old") is None
    assert store.get("arn", "live") == ShardCheckpoint("6")


def test_stream_record_becomes_the_lambda_event_record():
    raw = {
        "eventID": "x",
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 25, 3, 15, tzinfo=UTC),
            "NewImage": {"blob": {"B": b"\x00\x01"}, "tags": {"BS": [b"a"]}},
            "SequenceNumber": "1",
        },
    }
    record = to_lambda_record(raw, "arn:stream")
    assert record["eventSourceARN"] == "arn:stream"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1795576500.0
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    assert record["dynamodb"]["NewImage"]["tags"] == {"BS": ["YQ=="]}
    json.dumps(record)


def test_lag_uses_the_later_of_created_at_and_the_stream_time():
    from infra.esm.shard_poller import record_time

    def rec(created: str | None, approx: float | None) -> dict:
        image = {"created_at": {"S": created}} if created else {}
        ddb: dict = {"NewImage": image}
        if approx is not None:
            ddb["ApproximateCreationDateTime"] = approx
        return {"dynamodb": ddb}

    minute = 1795576500.0  # 2026-11-25T03:15:00Z, as DynamoDB Local rounds it
    assert record_time(rec("2026-11-25T03:15:09.250Z", minute)) == minute + 9.25
    assert record_time(rec("2026-11-25T03:10:00Z", minute)) == minute  # the run's start
    assert record_time(rec(None, minute)) == minute
    assert record_time(rec("not a date", None)) is None
    assert record_time(rec("2999-01-01T00:00:00Z", minute)) == minute
