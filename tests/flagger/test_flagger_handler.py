"""The handler on JSON fixture events (the real AWS stream shape), with moto's retrain table."""

from __future__ import annotations

import copy
import json
import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from flagger import handler as handler_module
from flagger.config import ConfigError, FlaggerConfig
from flagger.failures import UNREADABLE_ERRORS, UNREADABLE_SAMPLE
from flagger.handler import OUTCOMES, Flagger, lambda_handler
from infra.provision.tables import ensure_table

RUN = "20261125T031509123Z-7f3a"
EVENTS_DIR = Path(__file__).parent / "events"
RETRAIN_TABLE = "IrisExtendedRetrain-unit"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture
def moto_ddb(moto_dynamodb: Any) -> Any:
    """A moto DynamoDB client with the retrain table, created by the product's provisioning."""
    ensure_table(moto_dynamodb, RETRAIN_TABLE, stream=False, timeout=30)
    return moto_dynamodb


def retrain_items(client: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the retrain table, by (partition_key, sort_key)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": RETRAIN_TABLE}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {(i["partition_key"]["S"], i["sort_key"]["S"]): i for i in items}


def row(n: int) -> tuple[str, str]:
    return (RUN, f"{n:06d}")


def seq_of(event: dict[str, Any], sort_key: str) -> str:
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["sort_key"]["S"] == sort_key:
            return record["dynamodb"]["SequenceNumber"]
    raise KeyError(sort_key)


def reasons(item: dict[str, Any]) -> list[str]:
    return [v["S"] for v in item["reasons"]["L"]]


@pytest.fixture
def flagger(moto_ddb: Any) -> Flagger:
    return Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE, threshold=0.9), moto_ddb)


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def flagger_logs() -> Any:
    capture = LogCapture()
    logger = logging.getLogger("flagger")
    logger.addHandler(capture)
    yield capture.lines
    logger.removeHandler(capture)


def outcomes(lines: list[dict[str, Any]]) -> Counter[str]:
    """The outcome counts of the function's ``batch processed`` lines (its metrics), summed."""
    total: Counter[str] = Counter()
    for line in lines:
        if line["message"] == "batch processed":
            total.update({name: line[name] for name in OUTCOMES})
    return total


def test_course_string_records_flag_misclassified_and_low_confidence(flagger, moto_ddb):
    event = load_event("insert_course_strings.json")
    result = flagger.handle(event, None)
    assert result == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    assert set(items) == {row(1), row(2), row(3)}
    assert reasons(items[row(1)]) == ["misclassified"]
    assert reasons(items[row(2)]) == ["low_confidence"]
    assert reasons(items[row(3)]) == ["misclassified", "low_confidence"]


def test_retrain_item_copies_the_source_and_says_why_and_when(flagger, moto_ddb):
    event = load_event("insert_course_strings.json")
    before = datetime.now(UTC)
    flagger.handle(event, None)
    item = retrain_items(moto_ddb)[row(1)]
    source = event["Records"][1]["dynamodb"]["NewImage"]
    for name, value in source.items():
        assert item[name] == value
    assert item["threshold"] == {"S": "0.9"}
    flagged_at = datetime.fromisoformat(item["flagged_at"]["S"].replace("Z", "+00:00"))
    assert flagged_at.tzinfo is not None and flagged_at.utcoffset().total_seconds() == 0
    assert before <= flagged_at <= datetime.now(UTC)
    assert set(item) == set(source) | {"reasons", "flagged_at", "threshold"}


def test_modify_events_are_evaluated_like_inserts(flagger, moto_ddb):
    assert flagger.handle(load_event("modify.json"), None) == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    assert set(items) == {row(7)}
    assert reasons(items[row(7)]) == ["misclassified", "low_confidence"]


def test_remove_events_are_ignored_not_failed(flagger, moto_ddb, flagger_logs):
    assert flagger.handle(load_event("remove.json"), None) == {"batchItemFailures": []}
    assert retrain_items(moto_ddb) == {}
    assert outcomes(flagger_logs)["ignored"] == 2


def test_numeric_attributes_are_accepted_and_copied_with_their_type(flagger, moto_ddb):
    assert flagger.handle(load_event("numeric_attributes.json"), None) == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    assert set(items) == {row(11), row(13)}
    assert reasons(items[row(11)]) == ["low_confidence"]
    assert items[row(11)]["Probability"] == {"N": "0.42"}
    assert items[row(11)]["model_id"] == {"N": "3"}
    assert reasons(items[row(13)]) == ["misclassified"]


def test_every_unreadable_record_is_copied_at_once_as_unreadable_never_retried(
    flagger, moto_ddb, flagger_logs
):
    """Missing fields, a non-number, non-finite or out-of-range probability, an untyped value:
    none can become readable later, so none is reported for a retry; each is a candidate."""
    event = load_event("malformed.json")
    result = flagger.handle(event, None)
    assert result == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    assert set(items) == {(RUN, r["dynamodb"]["Keys"]["sort_key"]["S"]) for r in event["Records"]}
    for record in event["Records"]:
        key = (RUN, record["dynamodb"]["Keys"]["sort_key"]["S"])
        item = items[key]
        assert reasons(item) == ["unreadable"]
        assert item["unreadable_error"]["S"]
        assert item["threshold"] == {"S": "0.9"} and item["flagged_at"]["S"]
        for name, value in record["dynamodb"]["NewImage"].items():  # whatever it holds
            if isinstance(value, dict):
                assert item[name] == value
    untyped = items[(RUN, "000041")]  # "Probability": "0.5" is not a typed value
    assert "Probability" not in untyped
    assert json.loads(untyped["unreadable_attributes"]["S"]) == {"Probability": "0.5"}
    assert items[(RUN, "000028")]["sort_key"] == {"S": "000028"}  # key from Keys
    assert outcomes(flagger_logs)["unreadable"] == len(event["Records"])
    assert outcomes(flagger_logs)["failed"] == 0
    # One line for the batch, not one per record: the count, the range, the first few in full.
    (line,) = [line for line in flagger_logs if line["message"] == "unreadable records"]
    records = event["Records"]
    assert line["level"] == "ERROR"
    assert line["count"] == line["copied"] == len(records) and line["to_destination"] == 0
    assert line["first_sequence_number"] == records[0]["dynamodb"]["SequenceNumber"]
    assert line["last_sequence_number"] == records[-1]["dynamodb"]["SequenceNumber"]
    assert len(line["errors"]) == UNREADABLE_ERRORS < len(records)  # 12 distinct messages
    assert sum(line["errors"].values()) + line["other_errors"] == len(records)
    assert len(line["first"]) == UNREADABLE_SAMPLE < len(records)
    for entry, record in zip(line["first"], records, strict=False):
        assert entry["sequence_number"] == record["dynamodb"]["SequenceNumber"]
        assert entry["keys"]["partition_key"] == RUN
        assert entry["keys"]["sort_key"] == record["dynamodb"]["Keys"]["sort_key"]["S"]
        assert entry["error"] and entry["action"] == "copied as unreadable"


class ListSink:
    """An on-failure destination that keeps what it is sent (the runner's file, SQS on AWS)."""

    def __init__(self, fail: bool = False) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail = fail

    def send(self, message: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("queue unreachable")
        json.dumps(message, default=str)  # what a real destination does with it
        self.messages.append(message)


def test_unreadable_records_without_a_key_go_to_the_destination_at_once(moto_ddb, flagger_logs):
    sink = ListSink()
    flagger = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE), moto_ddb, failure_sink=sink)
    event = load_event("unreadable_no_key.json")
    assert flagger.handle(event, None) == {"batchItemFailures": []}
    assert [m["record"] for m in sink.messages] == event["Records"][:3]
    assert all(m["reason"].startswith("unreadable: ") for m in sink.messages)
    assert [m["sequence_number"] for m in sink.messages] == [
        "4200000000000000000101",
        "4200000000000000000102",
        None,
    ]
    assert set(retrain_items(moto_ddb)) == {row(1)}  # the readable record behind them
    counts = outcomes(flagger_logs)
    assert counts["to_destination"] == 3 and counts["flagged"] == 1
    (line,) = [line for line in flagger_logs if line["message"] == "unreadable records"]
    assert (line["count"], line["copied"], line["to_destination"]) == (3, 0, 3)
    assert [e["action"] for e in line["first"]] == ["sent to the on-failure destination"] * 3


def test_keyless_unreadable_records_are_retried_only_when_the_send_fails(moto_ddb):
    """A failed send can succeed later (retry); with no destination the mapping's gets it."""
    event = load_event("unreadable_no_key.json")
    for sink in (ListSink(fail=True), None):
        flagger = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE), moto_ddb, failure_sink=sink)
        assert flagger.handle(event, None) == {
            "batchItemFailures": [
                {"itemIdentifier": "4200000000000000000101"},
                {"itemIdentifier": "4200000000000000000102"},
                {"itemIdentifier": ""},
            ]
        }


def test_mixed_batch_copies_the_poison_record_as_unreadable_and_processes_the_rest(
    flagger, moto_ddb, flagger_logs
):
    event = load_event("mixed_batch.json")
    result = flagger.handle(event, None)
    assert result == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    assert set(items) == {row(31), row(33), row(34), row(36)}
    assert reasons(items[row(36)]) == ["misclassified", "low_confidence"]
    assert reasons(items[row(33)]) == ["unreadable"]
    assert outcomes(flagger_logs) == Counter(
        {"flagged": 3, "unreadable": 1, "ignored": 2, "passed": 2, "failed": 0}
    )


def test_record_built_exactly_as_the_contract_says_is_read_correctly(flagger, moto_ddb):
    event = load_event("contract_record.json")
    assert flagger.handle(event, None) == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    item = items[("20261125T031509123Z-7f3a", "000042")]
    assert reasons(item) == ["misclassified", "low_confidence"]
    source = event["Records"][0]["dynamodb"]["NewImage"]
    assert {k: item[k] for k in source} == source
    assert item["model_id"] == {"S": "0"}


def test_redelivered_batch_rewrites_the_same_items(flagger, moto_ddb):
    event = load_event("mixed_batch.json")
    flagger.handle(event, None)
    first = retrain_items(moto_ddb)
    flagger.handle(copy.deepcopy(event), None)
    second = retrain_items(moto_ddb)
    assert set(second) == set(first)
    assert len(second) == 4


def test_threshold_comes_from_the_config(moto_ddb):
    lenient = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE, threshold=0.5), moto_ddb)
    lenient.handle(load_event("insert_course_strings.json"), None)
    items = retrain_items(moto_ddb)
    assert set(items) == {row(1), row(3)}  # 0.62 passes a 0.5 threshold
    assert reasons(items[row(3)]) == ["misclassified"]
    assert items[row(3)]["threshold"] == {"S": "0.5"}


class ThrottlingClient:
    """Delegates to moto but throttles the writes of some sort keys (as a throttled or refused
    UpdateItem would, after botocore's own retries)."""

    def __init__(self, inner: Any, throttled: set[str]) -> None:
        self.inner = inner
        self.throttled = throttled
        self.calls: list[str] = []

    def _refuse(self, sort_keys: list[str], op: str) -> None:
        if self.throttled & set(sort_keys):
            error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
            raise ClientError({"Error": error}, op)

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> Any:
        keys = [t["Put"]["Item"]["sort_key"]["S"] for t in TransactItems]
        self._refuse(keys, "TransactWriteItems")  # one refused item cancels the transaction
        return self.inner.transact_write_items(TransactItems=TransactItems)

    def update_item(self, **kwargs: Any) -> Any:
        sort_key = kwargs["Key"]["sort_key"]["S"]
        self.calls.append(sort_key)
        self._refuse([sort_key], "UpdateItem")
        return self.inner.update_item(**kwargs)


def test_write_error_reports_that_record_only(moto_ddb, flagger_logs):
    client = ThrottlingClient(moto_ddb, {"000031"})
    flagger = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE), client)
    event = load_event("mixed_batch.json")
    result = flagger.handle(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": seq_of(event, "000031")}]}
    assert set(retrain_items(moto_ddb)) == {row(33), row(34), row(36)}
    write_logs = [line for line in flagger_logs if line["message"] == "retrain write failed"]
    assert len(write_logs) == 1
    assert write_logs[0]["keys"] == {"partition_key": RUN, "sort_key": "000031"}
    assert "ThrottlingException" in write_logs[0]["error"]


def test_later_records_for_a_failed_key_are_held_back_to_keep_per_key_order(moto_ddb):
    event = load_event("insert_course_strings.json")
    newer = copy.deepcopy(event["Records"][1])  # row 1, misclassified
    newer["eventName"] = "MODIFY"
    newer["dynamodb"]["SequenceNumber"] = "4200000000000000009999"
    newer["dynamodb"]["NewImage"]["Probability"] = {"S": "0.55"}
    event["Records"].append(newer)
    client = ThrottlingClient(moto_ddb, {"000001"})
    flagger = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE), client)
    result = flagger.handle(event, None)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": seq_of(event, "000001")},
            {"itemIdentifier": "4200000000000000009999"},
        ]
    }
    assert client.calls.count("000001") == 1  # the newer image was not written out of order
    assert set(retrain_items(moto_ddb)) == {row(2), row(3)}


def test_record_without_sequence_number_is_copied_as_unreadable(flagger, moto_ddb):
    event = load_event("modify.json")
    del event["Records"][0]["dynamodb"]["SequenceNumber"]
    result = flagger.handle(event, None)
    assert result == {"batchItemFailures": []}
    assert reasons(retrain_items(moto_ddb)[row(7)]) == ["unreadable"]


def test_failed_write_of_a_record_without_sequence_number_fails_the_batch(moto_ddb):
    event = load_event("modify.json")
    del event["Records"][0]["dynamodb"]["SequenceNumber"]
    client = ThrottlingClient(moto_ddb, {"000007"})
    flagger = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE), client)
    assert flagger.handle(event, None) == {"batchItemFailures": [{"itemIdentifier": ""}]}


def test_unknown_event_name_is_copied_as_unreadable(flagger, moto_ddb):
    event = load_event("modify.json")
    event["Records"][0]["eventName"] = "UPSERT"
    result = flagger.handle(event, None)
    assert result == {"batchItemFailures": []}
    assert reasons(retrain_items(moto_ddb)[row(7)]) == ["unreadable"]


def test_event_without_records_is_a_function_error(flagger):
    with pytest.raises(ValueError, match="Records"):
        flagger.handle({"nope": []}, None)


def test_lambda_handler_reads_env_and_creates_its_client_once(moto_ddb, monkeypatch):
    monkeypatch.setenv("RETRAIN_TABLE", RETRAIN_TABLE)
    monkeypatch.setenv("CONFIDENCE_THRESHOLD", "0.95")
    handler_module.set_client(None)
    try:
        result = lambda_handler(load_event("insert_course_strings.json"), None)
        first_client = handler_module.get_client()
        lambda_handler(load_event("modify.json"), None)
        assert handler_module.get_client() is first_client
    finally:
        handler_module.set_client(None)
    assert result == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    # 0.9 is below 0.95 now, 0.9987 is not
    assert set(items) == {row(1), row(2), row(3), row(4), row(7)}
    assert items[row(4)]["threshold"] == {"S": "0.95"}


def test_lambda_handler_with_a_bad_threshold_raises_instead_of_flagging(moto_ddb, monkeypatch):
    monkeypatch.setenv("RETRAIN_TABLE", RETRAIN_TABLE)
    monkeypatch.setenv("CONFIDENCE_THRESHOLD", "ninety")
    handler_module.set_client(moto_ddb)
    try:
        with pytest.raises(ConfigError, match="CONFIDENCE_THRESHOLD"):
            lambda_handler(load_event("insert_course_strings.json"), None)
    finally:
        handler_module.set_client(None)
    assert retrain_items(moto_ddb) == {}


def test_an_attribute_dynamodb_would_refuse_makes_the_record_unreadable_not_stuck(moto_ddb):
    """Copied as is, a number DynamoDB rejects would fail every write of it, forever."""
    event = load_event("insert_course_strings.json")
    event["Records"][2]["dynamodb"]["NewImage"]["size"] = {"N": "not-a-number"}
    flagger = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE), moto_ddb)
    result = flagger.handle(event, None)
    assert result == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    assert set(items) == {row(1), row(2), row(3)}
    assert reasons(items[row(2)]) == ["unreadable"]
    assert "size" not in items[row(2)]
    assert json.loads(items[row(2)]["unreadable_attributes"]["S"]) == {
        "size": {"N": "not-a-number"}
    }


def test_many_flagged_records_and_repeated_keys_are_written_in_order(moto_ddb, flagger_logs):
    template = load_event("insert_course_strings.json")["Records"][1]  # misclassified
    records = []
    for n in range(60):
        record = copy.deepcopy(template)
        sort_key = f"{n % 40:06d}"  # rows 0-19 appear twice: INSERT then MODIFY
        record["dynamodb"]["Keys"]["sort_key"] = {"S": sort_key}
        record["dynamodb"]["NewImage"]["sort_key"] = {"S": sort_key}
        record["dynamodb"]["NewImage"]["Probability"] = {"S": f"0.{50 + n:02d}"}
        record["dynamodb"]["SequenceNumber"] = str(5000 + n)
        record["eventName"] = "INSERT" if n < 40 else "MODIFY"
        records.append(record)
    flagger = Flagger(FlaggerConfig(retrain_table=RETRAIN_TABLE), moto_ddb)
    assert flagger.handle({"Records": records}, None) == {"batchItemFailures": []}
    items = retrain_items(moto_ddb)
    assert len(items) == 40
    assert items[row(5)]["Probability"] == {"S": "0.95"}  # the MODIFY (n=45) won
    assert items[row(25)]["Probability"] == {"S": "0.75"}
    assert outcomes(flagger_logs)["flagged"] == 60
