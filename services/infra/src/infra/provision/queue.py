"""The on-failure queue (SQS): batches the event source mapping gives up on wait for a human."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.aws import AwsClients, error_code
from infra.config import InfraSettings
from infra.provision.report import Action, Change

QUEUE_RETENTION_S = "1209600"  # 14 days, the SQS maximum: failed batches wait for a human


def queue_url(sqs: Any, name: str) -> str | None:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if "NonExistentQueue" in error_code(exc) or "QueueDoesNotExist" in error_code(exc):
            return None
        raise


def ensure_failure_queue(settings: InfraSettings, clients: AwsClients) -> tuple[Change, str]:
    """The on-failure destination: batches that never succeed land here. Returns its ARN."""
    sqs = clients("sqs")
    name = settings.failure_queue_name
    url = queue_url(sqs, name)
    action: Action = "unchanged"
    if url is None:
        url = sqs.create_queue(
            QueueName=name, Attributes={"MessageRetentionPeriod": QUEUE_RETENTION_S}
        )["QueueUrl"]
        action = "created"
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn", "MessageRetentionPeriod"]
    )["Attributes"]
    if action == "unchanged" and attrs.get("MessageRetentionPeriod") != QUEUE_RETENTION_S:
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"MessageRetentionPeriod": QUEUE_RETENTION_S}
        )
        action = "updated"
    return Change(action, "queue", name), attrs["QueueArn"]


def delete_failure_queue(settings: InfraSettings, clients: AwsClients) -> Change:
    sqs = clients("sqs")
    url = queue_url(sqs, settings.failure_queue_name)
    if url is None:
        return Change("absent", "queue", settings.failure_queue_name)
    sqs.delete_queue(QueueUrl=url)
    return Change("deleted", "queue", settings.failure_queue_name)
