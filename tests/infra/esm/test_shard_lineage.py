"""Shard lineage and trimmed data, on a scripted Streams API (DynamoDB Local keeps one shard)."""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError
from infra.esm import EsmRunner, EsmSettings
from infra.esm.checkpoint import CheckpointStore

from tests.support.stream_kit import key_record

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/Score/stream/2026-11-25T00:00:00.000"


class ScriptedStreams:
    """Shards with fixed records; closed shards end (no NextShardIterator) once read."""

    def __init__(self, shards: dict[str, dict[str, Any]]) -> None:
        self.shards = shards
        self.lock = threading.Lock()
        self.trimmed_before: dict[str, int] = {}
        self.iterator_requests: list[tuple[str, str]] = []

    def add_shard(self, shard_id: str, parent: str | None, seqs: list[int], closed: bool) -> None:
        with self.lock:
            self.shards[shard_id] = {"parent": parent, "seqs": seqs, "closed": closed}

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        with self.lock:
            shards = []
            for shard_id, s in self.shards.items():
                rng = {"StartingSequenceNumber": str(s["seqs"][0] if s["seqs"] else 0)}
                if s["closed"]:
                    rng["EndingSequenceNumber"] = str(s["seqs"][-1] if s["seqs"] else 0)
                entry = {"ShardId": shard_id, "SequenceNumberRange": rng}
                if s["parent"]:
                    entry["ParentShardId"] = s["parent"]
                shards.append(entry)
        return {"StreamDescription": {"StreamArn": StreamArn, "Shards": shards}}

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str = ""
    ) -> dict[str, Any]:
        self.iterator_requests.append((ShardId, ShardIteratorType))
        seqs = self.shards[ShardId]["seqs"]
        trimmed = self.trimmed_before.get(ShardId, 0)
        if ShardIteratorType == "TRIM_HORIZON":
            position = next((i for i, s in enumerate(seqs) if s >= trimmed), len(seqs))
        else:
            after = int(SequenceNumber)
            if after < trimmed - 1:
                raise ClientError(
                    {"Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"}},
                    "GetShardIterator",
                )
            position = next((i for i, s in enumerate(seqs) if s > after), len(seqs))
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard_id, position = ShardIterator.split("|")
        start = int(position)
        with self.lock:
            shard = self.shards[shard_id]
            seqs = shard["seqs"][start : start + Limit]
            end = start + len(seqs)
            finished = shard["closed"] and end >= len(shard["seqs"])
        response: dict[str, Any] = {"Records": [key_record(s) for s in seqs]}
        if not finished:
            response["NextShardIterator"] = f"{shard_id}|{end}"
        return response


class ScriptedTable:
    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {
            "Table": {
                "LatestStreamArn": ARN,
                "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            }
        }


class RecordingHandler:
    def __init__(self) -> None:
        self.seen: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.seen += [int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]]
        assert all(r["eventSourceARN"] == ARN for r in event["Records"])
        return {"batchItemFailures": []}


def settings(tmp_path) -> EsmSettings:
    return EsmSettings(
        data_dir=tmp_path,
        esm_batch_size=3,
        esm_poll_interval=0.01,
        esm_discovery_interval=0.01,
        AWS_ENDPOINT_URL="http://unused.invalid",
    )


def test_child_shards_are_read_only_after_their_parent_is_drained(tmp_path):
    streams = ScriptedStreams({})
    streams.add_shard("shard-parent", None, list(range(1, 11)), closed=True)
    streams.add_shard("shard-child-a", "shard-parent", list(range(11, 16)), closed=True)
    streams.add_shard("shard-child-b", "shard-parent", list(range(16, 21)), closed=False)
    streams.add_shard("shard-grandchild", "shard-child-a", list(range(21, 25)), closed=False)
    handler = RecordingHandler()
    runner = EsmRunner(settings(tmp_path), handler, dynamodb=ScriptedTable(), streams=streams)
    runner.run_until_idle(timeout=30)
    assert sorted(handler.seen) == list(range(1, 25))  # everything, once
    position = {seq: i for i, seq in enumerate(handler.seen)}
    assert max(position[s] for s in range(1, 11)) < min(position[s] for s in range(11, 21))
    assert max(position[s] for s in range(11, 16)) < min(position[s] for s in range(21, 25))
    store = CheckpointStore(tmp_path / "esm" / "checkpoints.json")
    assert store.is_done(ARN, "shard-parent") and store.is_done(ARN, "shard-child-a")
    assert not store.is_done(ARN, "shard-child-b")


def test_a_shard_that_appears_later_is_discovered(tmp_path):
    streams = ScriptedStreams({})
    streams.add_shard("shard-1", None, [1, 2, 3], closed=False)
    handler = RecordingHandler()
    runner = EsmRunner(settings(tmp_path), handler, dynamodb=ScriptedTable(), streams=streams)
    runner.run_until_idle(timeout=30)
    streams.shards["shard-1"]["closed"] = True  # rolled over: a child takes the new writes
    streams.add_shard("shard-2", "shard-1", [4, 5, 6, 7], closed=False)
    runner = EsmRunner(settings(tmp_path), handler, dynamodb=ScriptedTable(), streams=streams)
    runner.run_until_idle(timeout=30)
    assert handler.seen == [1, 2, 3, 4, 5, 6, 7]


def test_checkpoint_behind_the_trim_horizon_is_reported_and_reading_goes_on(tmp_path):
    streams = ScriptedStreams({})
    streams.add_shard("shard-1", None, list(range(1, 21)), closed=False)
    CheckpointStore(tmp_path / "esm" / "checkpoints.json").save(ARN, "shard-1", f"{3:021d}")
    streams.trimmed_before["shard-1"] = 10  # records 4-9 expired before they were read
    handler = RecordingHandler()
    runner = EsmRunner(settings(tmp_path), handler, dynamodb=ScriptedTable(), streams=streams)
    runner.run_until_idle(timeout=30)
    assert handler.seen == list(range(10, 21))
    (message,) = runner.destination.read_all()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["sequence_number"] == f"{3:021d}"
    assert ("shard-1", "TRIM_HORIZON") in streams.iterator_requests
