"""Reading ahead: the next GetRecords runs while the function handles a batch, and changes nothing
else (order, checkpoints, a fall-back to the checkpoint discards it). Speed is in the bench."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from infra.esm import EsmRunner, EsmSettings
from infra.esm.checkpoint import CheckpointStore
from infra.esm.readahead import ReadAhead

from tests.support.stream_kit import key_record

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/Score/stream/2026-12-02T00:00:00.000"
SHARD = "shard-0001"


class OneShard:
    """An open shard holding records 1..n; iterators are positions."""

    def __init__(self, n: int) -> None:
        self.seqs = list(range(1, n + 1))
        self.reads: list[int] = []  # the position of every GetRecords, in call order
        self.read_done = threading.Condition()

    def describe_table(self, TableName: str) -> dict[str, Any]:
        stream = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        return {"Table": {"LatestStreamArn": ARN, "StreamSpecification": stream}}

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        shard = {"ShardId": SHARD, "SequenceNumberRange": {"StartingSequenceNumber": "1"}}
        return {"StreamDescription": {"StreamArn": StreamArn, "Shards": [shard]}}

    def get_shard_iterator(self, ShardIteratorType: str, SequenceNumber: str = "", **_: Any):
        after = int(SequenceNumber) if ShardIteratorType == "AFTER_SEQUENCE_NUMBER" else 0
        return {"ShardIterator": str(next((i for i, s in enumerate(self.seqs) if s > after), 0))}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        seqs = self.seqs[start : start + Limit]
        with self.read_done:
            self.reads.append(start)
            self.read_done.notify_all()
        return {
            "Records": [key_record(s) for s in seqs],
            "NextShardIterator": str(start + len(seqs)),
        }


def test_the_next_batch_is_read_while_the_function_handles_this_one(tmp_path):
    shard = OneShard(9)
    seen: list[int] = []
    overlapped: list[bool] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        first = int(event["Records"][0]["dynamodb"]["SequenceNumber"])
        with shard.read_done:  # the read of the batch after this one, while this one is handled
            overlapped.append(shard.read_done.wait_for(lambda: first + 2 in shard.reads, 30))
        seen.extend(int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"])
        return {"batchItemFailures": []}

    settings = EsmSettings(
        data_dir=tmp_path,
        esm_batch_size=3,
        esm_poll_interval=0.01,
        esm_discovery_interval=0.01,
        AWS_ENDPOINT_URL="http://unused.invalid",
    )
    runner = EsmRunner(settings, handler, dynamodb=shard, streams=shard)
    runner.run_until_idle(timeout=60)
    assert seen == list(range(1, 10))  # each record once, in order
    assert overlapped == [True, True, True]
    store = CheckpointStore(tmp_path / "esm" / "checkpoints.json")
    assert store.get(ARN, SHARD).sequence_number == f"{9:021d}"


def test_a_read_ahead_is_used_only_for_its_iterator_and_its_error_surfaces_on_get():
    calls: list[str] = []
    expired = ClientError({"Error": {"Code": "ExpiredIteratorException"}}, "GetRecords")

    def get_records(iterator: str) -> dict[str, Any]:
        calls.append(iterator)
        if iterator == "bad":
            raise expired
        return {"Records": [iterator]}

    reader = ReadAhead(get_records, name="test")
    try:
        reader.start("a")
        assert reader.get("b") == {"Records": ["b"]} and not reader.stale  # "a" discarded
        reader.start("c")
        assert reader.get("c") == {"Records": ["c"]} and reader.stale
        assert calls.count("c") == 1  # read once, ahead
        reader.start("bad")
        with pytest.raises(ClientError):
            reader.get("bad")
    finally:
        reader.close()
