"""The role provisioning builds covers every AWS call the function's code really makes.

The deployed entry point runs against moto with boto3's own clients; a botocore hook records each
operation it sends. Each recorded call, as its IAM action on its resource, must be allowed by the
policy ``infra.provision.iam.function_policy`` builds, and the policy's grants for the function's
own resources must be exactly what was called (no more).
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flagger import handler as handler_module
from flagger.handler import lambda_handler
from flagger.permissions import FUNCTION_CALLS
from infra.config import InfraSettings
from infra.provision.iam import function_policy
from infra.provision.tables import ensure_table
from moto import mock_aws

EVENTS = Path(__file__).parent / "events"
TABLE = "IrisExtendedRetrain-perm"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/IrisExtended/stream/2026-11-25T03:15:00"


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        ensure_table(ddb, TABLE, stream=False, timeout=30)
        queue_url = sqs.create_queue(QueueName="flagger-failures")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        monkeypatch.setenv("RETRAIN_TABLE", TABLE)
        monkeypatch.setenv("FAILURE_QUEUE_URL", queue_url)
        yield {
            "ddb": ddb,
            "sqs": sqs,
            "queue_url": queue_url,
            "queue_arn": queue_arn,
            "table_arn": ddb.describe_table(TableName=TABLE)["Table"]["TableArn"],
        }


# How IAM authorises the parts of a transaction (Using IAM with DynamoDB transactions, AWS docs)
TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


class Recorder:
    """Records (IAM action, resource) of every call; can refuse one operation once, as IAM
    would (AccessDenied), to drive the code down its failure path."""

    def __init__(self, arns: dict[str, str], refuse_once: str | None = None) -> None:
        self.arns = arns
        self.refuse_once = refuse_once
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        """``before-parameter-build``: the call's own parameters, as the code passed them."""
        action = f"{model.service_model.signing_name}:{model.name}"
        if model.name == "TransactWriteItems":  # IAM checks each item's own action
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                self.calls.append((TRANSACT_ACTIONS[kind], self.arns[body["TableName"]]))
            return
        if "TableName" in params:
            resources = [params["TableName"]]
        elif "RequestItems" in params:
            resources = list(params["RequestItems"])
        else:
            resources = [params["QueueUrl"]]
        self.calls += [(action, self.arns[r]) for r in resources]

    def refuse(self, model: Any, **_: Any) -> Any:
        """``before-call``: answer AccessDenied instead of sending, once."""
        action = f"{model.service_model.signing_name}:{model.name}"
        with self.lock:  # the function writes from a thread pool: refuse exactly one call
            refuse, self.refuse_once = (
                (True, None) if model.name == self.refuse_once else (False, self.refuse_once)
            )
        if refuse:
            error = {"Code": "AccessDeniedException", "Message": f"not authorized: {action}"}
            return (type("R", (), {"status_code": 400, "headers": {}})(), {"Error": error})
        return None


def allowed(policy: dict[str, Any], action: str, resource: str) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if (
            statement["Effect"] == "Allow"
            and any(fnmatch.fnmatchcase(action, a) for a in actions)
            and any(fnmatch.fnmatchcase(resource, r) for r in resources)
        ):
            return True
    return False


def test_the_role_covers_every_call_the_function_makes_and_no_more(aws, caplog):
    recorder = Recorder({TABLE: aws["table_arn"], aws["queue_url"]: aws["queue_arn"]})
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-parameter-build", recorder.record)
    boto3.DEFAULT_SESSION.events.register("before-call", recorder.refuse)
    handler_module.set_client(None)
    handler_module.set_client(None, "sqs")
    try:
        # 1: new candidates, one transaction of conditional puts (PutItem)
        first = event("insert_course_strings.json")
        assert lambda_handler(first, None) == {"batchItemFailures": []}
        # 2: redelivered: the items exist, so the transaction is cancelled → UpdateItem each
        assert lambda_handler(first, None) == {"batchItemFailures": []}
        # 3: the transaction refused (as IAM would without PutItem): logged, UpdateItem each
        recorder.refuse_once = "TransactWriteItems"
        assert lambda_handler(event("mixed_batch.json"), None) == {"batchItemFailures": []}
        # 4: one flagged record: UpdateItem; refused once, that record alone is reported
        modify = event("modify.json")
        assert lambda_handler(modify, None) == {"batchItemFailures": []}
        recorder.refuse_once = "UpdateItem"
        assert lambda_handler(modify, None) == {
            "batchItemFailures": [
                {"itemIdentifier": modify["Records"][0]["dynamodb"]["SequenceNumber"]}
            ]
        }
        # 5: keyless unreadable records: SendMessage
        assert lambda_handler(event("unreadable_no_key.json"), None) == {"batchItemFailures": []}
    finally:
        handler_module.set_client(None)
        handler_module.set_client(None, "sqs")
        boto3.DEFAULT_SESSION = None

    called = set(recorder.calls)
    assert {action for action, _ in called} == {a for a, _ in FUNCTION_CALLS.values()}
    policy = function_policy(
        InfraSettings(function_name="retrain-flagger"),
        stream_arn=STREAM_ARN,
        retrain_table_arn=aws["table_arn"],
        queue_arn=aws["queue_arn"],
    )
    for action, resource in called:
        assert allowed(policy, action, resource), (action, resource)
    table_grants = {
        a for s in policy["Statement"] if s["Resource"] == aws["table_arn"] for a in s["Action"]
    }
    assert table_grants == {a for a, r in called if r == aws["table_arn"]}
    # Why the transaction fell back, and why the record failed, are in the log with the code.
    assert "TransactWriteItems failed" in caplog.text and "retrain write failed" in caplog.text
    assert caplog.text.count("AccessDeniedException") >= 2
    # The keyless records really reached the queue.
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)
    assert len(messages["Messages"]) == 3
