"""The flagger's write never touches model_api's review of a candidate (moto's retrain table).

Stream delivery is at-least-once and a score record can be modified: each of those rewrites the
candidate. The review (``review``, ``review_history``, written by model_api with UpdateItem) must
survive every one of them, while the copied attributes follow the newest image.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from flagger.config import FlaggerConfig
from flagger.handler import Flagger
from flagger.retrain import WRITE_CHUNK
from infra.provision.tables import ensure_table

RUN = "20261125T031509123Z-7f3a"
EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


TABLE = "IrisExtendedRetrain-reviews"
REVIEW = {
    "M": {
        "decision": {"S": "relabel"},
        "label": {"S": "setosa"},
        "reviewer": {"S": "ana"},
        "reviewed_at": {"S": "2026-11-25T04:00:00.000000Z"},
        "source": {"S": "manual"},
    }
}


@pytest.fixture
def ddb(moto_dynamodb: Any) -> Any:
    ensure_table(moto_dynamodb, TABLE, stream=False, timeout=30)
    return moto_dynamodb


def flagger(client: Any) -> Flagger:
    return Flagger(FlaggerConfig(retrain_table=TABLE, threshold=0.9), client)


def review(client: Any, sort_key: str) -> None:
    """What model_api's review store does (model_api/retrain/reviews.py): an UpdateItem."""
    client.update_item(
        TableName=TABLE,
        Key={"partition_key": {"S": RUN}, "sort_key": {"S": sort_key}},
        UpdateExpression="SET review = :r, "
        "review_history = list_append(if_not_exists(review_history, :e), :h)",
        ConditionExpression="attribute_exists(partition_key)",
        ExpressionAttributeValues={":r": REVIEW, ":h": {"L": [REVIEW]}, ":e": {"L": []}},
    )


def flagged_and_reviewed(client: Any) -> dict[str, Any]:
    """The course event flagged (every record written) and row 000001's candidate reviewed;
    returns the event, as the flagger saw it."""
    event = load_event("insert_course_strings.json")
    assert flagger(client).handle(event, None) == {"batchItemFailures": []}
    review(client, "000001")
    return event


def item(client: Any, sort_key: str) -> dict[str, Any]:
    return retrain_items_of(client)[(RUN, sort_key)]


def retrain_items_of(client: Any) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in client.scan(TableName=TABLE)["Items"]:
        out[(raw["partition_key"]["S"], raw["sort_key"]["S"])] = raw
    return out


def modified(event: dict[str, Any], index: int, **attributes: Any) -> dict[str, Any]:
    """The record at ``index`` as a later MODIFY of its score item, with new attribute values."""
    record = copy.deepcopy(event["Records"][index])
    record["eventName"] = "MODIFY"
    record["dynamodb"]["SequenceNumber"] = str(int(record["dynamodb"]["SequenceNumber"]) + 10**6)
    for name, value in attributes.items():
        if value is None:
            record["dynamodb"]["NewImage"].pop(name, None)
        else:
            record["dynamodb"]["NewImage"][name] = value
    return {"Records": [record]}


def test_a_redelivered_batch_keeps_the_review_and_leaves_the_item_as_it_was(ddb):
    event = flagged_and_reviewed(ddb)
    before = item(ddb, "000001")
    assert flagger(ddb).handle(copy.deepcopy(event), None) == {"batchItemFailures": []}
    after = item(ddb, "000001")
    assert after == before  # flagged_at included: it keeps the first flagging's time
    assert after["review"] == REVIEW and after["review_history"] == {"L": [REVIEW]}


def test_a_modify_rewrites_the_copied_attributes_and_keeps_the_review(ddb):
    event = flagged_and_reviewed(ddb)
    first = item(ddb, "000001")
    change = modified(event, 1, Probability={"S": "0.55"}, Actual={"S": "virginica"})
    assert flagger(ddb).handle(change, None) == {"batchItemFailures": []}
    after = item(ddb, "000001")
    image = change["Records"][0]["dynamodb"]["NewImage"]
    assert {k: after[k] for k in image} == image  # the newest image, byte for byte
    assert [r["S"] for r in after["reasons"]["L"]] == ["misclassified", "low_confidence"]
    assert after["flagged_at"] == first["flagged_at"]
    assert after["review"] == REVIEW and after["review_history"] == {"L": [REVIEW]}
    assert set(after) == set(image) | {
        "reasons",
        "flagged_at",
        "threshold",
        "review",
        "review_history",
    }


def test_a_modify_that_no_longer_qualifies_leaves_the_candidate_alone(ddb):
    event = flagged_and_reviewed(ddb)
    before = item(ddb, "000001")
    passing = modified(event, 1, Class={"S": "setosa"}, Actual={"S": "setosa"})
    passing["Records"][0]["dynamodb"]["NewImage"]["Probability"] = {"S": "0.99"}
    assert flagger(ddb).handle(passing, None) == {"batchItemFailures": []}
    assert item(ddb, "000001") == before


def test_an_image_turning_unreadable_and_back_keeps_no_stale_attribute_and_the_review(ddb):
    event = flagged_and_reviewed(ddb)
    broken = modified(event, 1, Probability={"S": "1.7"})
    broken["Records"][0]["dynamodb"]["NewImage"]["Probability"] = "1.7"  # not a typed value
    assert flagger(ddb).handle(broken, None) == {"batchItemFailures": []}
    unreadable = item(ddb, "000001")
    assert [r["S"] for r in unreadable["reasons"]["L"]] == ["unreadable"]
    assert "Probability" not in unreadable  # the old, readable value is not left behind
    assert json.loads(unreadable["unreadable_attributes"]["S"]) == {"Probability": "1.7"}
    assert unreadable["review"] == REVIEW
    fixed = modified(event, 1, Probability={"S": "0.61"})
    assert flagger(ddb).handle(fixed, None) == {"batchItemFailures": []}
    readable = item(ddb, "000001")
    assert readable["Probability"] == {"S": "0.61"}
    assert "unreadable_error" not in readable and "unreadable_attributes" not in readable
    assert readable["review"] == REVIEW and readable["review_history"] == {"L": [REVIEW]}


def test_a_score_image_holding_review_attributes_never_overwrites_the_review(ddb):
    event = flagged_and_reviewed(ddb)
    forged = modified(event, 1, review={"S": "overwritten"}, review_history={"L": []})
    assert flagger(ddb).handle(forged, None) == {"batchItemFailures": []}
    after = item(ddb, "000001")
    assert after["review"] == REVIEW and after["review_history"] == {"L": [REVIEW]}


class FailingKeys:
    """moto, except that the writes of some sort keys fail."""

    def __init__(self, inner: Any, failing: set[str]) -> None:
        self.inner, self.failing = inner, failing

    def _refuse(self, sort_keys: list[str], op: str) -> None:
        if self.failing & set(sort_keys):
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
            raise ClientError({"Error": error}, op)

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> Any:
        self._refuse([t["Put"]["Item"]["sort_key"]["S"] for t in TransactItems], "Transact")
        return self.inner.transact_write_items(TransactItems=TransactItems)

    def update_item(self, **kwargs: Any) -> Any:
        self._refuse([kwargs["Key"]["sort_key"]["S"]], "UpdateItem")
        return self.inner.update_item(**kwargs)


def batch(count: int, first_sequence: int = 7000) -> dict[str, Any]:
    """``count`` misclassified INSERT records of distinct rows."""
    template = load_event("insert_course_strings.json")["Records"][1]
    records = []
    for n in range(count):
        record = copy.deepcopy(template)
        sort_key = f"{n:06d}"
        record["dynamodb"]["Keys"]["sort_key"] = {"S": sort_key}
        record["dynamodb"]["NewImage"]["sort_key"] = {"S": sort_key}
        record["dynamodb"]["SequenceNumber"] = str(first_sequence + n)
        records.append(record)
    return {"Records": records}


class Counting:
    """moto, counting the calls made."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, Counter()

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.calls["transact_write_items"] += 1
        return self.inner.transact_write_items(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.calls["update_item"] += 1
        return self.inner.update_item(**kwargs)


def test_new_candidates_take_one_call_per_chunk_and_redelivered_ones_one_update_each(ddb):
    counting = Counting(ddb)
    event = batch(WRITE_CHUNK + 30)
    assert flagger(counting).handle(event, None) == {"batchItemFailures": []}
    assert counting.calls == {"transact_write_items": 2}
    assert len(retrain_items_of(ddb)) == WRITE_CHUNK + 30
    review(ddb, "000042")
    counting.calls.clear()
    assert flagger(counting).handle(copy.deepcopy(event), None) == {"batchItemFailures": []}
    assert counting.calls == {"transact_write_items": 2, "update_item": WRITE_CHUNK + 30}
    assert item(ddb, "000042")["review"] == REVIEW


def test_failures_in_batches_written_at_once_report_exactly_those_records(ddb):
    event = batch(WRITE_CHUNK + 50)
    failing = {"000003", "000030", "000031", f"{WRITE_CHUNK + 7:06d}"}  # in both chunks
    result = Flagger(FlaggerConfig(retrain_table=TABLE), FailingKeys(ddb, failing)).handle(
        event, None
    )
    assert result == {
        "batchItemFailures": [{"itemIdentifier": str(7000 + int(k))} for k in sorted(failing)]
    }
    written = {k[1] for k in retrain_items_of(ddb)}
    assert written == {f"{n:06d}" for n in range(WRITE_CHUNK + 50)} - failing
