"""The function's role (trust: Lambda only) and its one least-privilege inline policy.

The function's own calls come from ``flagger.permissions``; what Lambda does for it (read the
stream, send to the on-failure queue, write logs) is listed here. IAM changes take seconds to reach
Lambda on AWS, so calls that depend on a fresh role are retried while it propagates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from botocore.exceptions import ClientError
from flagger.permissions import FAILURE_QUEUE, RETRAIN_TABLE, actions_on

from infra.aws import AwsClients, error_code
from infra.config import InfraSettings
from infra.provision.report import Change, ProvisioningError

T = TypeVar("T")

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# What Lambda itself does with the function's role (the function's own code calls are listed in
# flagger.permissions): the event source mapping reads the stream and, for what never succeeds,
# sends to the on-failure queue; the runtime writes the function's logs.
STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
]
# ListStreams acts on no stream (it lists them): IAM cannot scope it to an ARN, so it needs "*".
STREAM_LIST_ACTIONS = ["dynamodb:ListStreams"]
MAPPING_QUEUE_ACTIONS = ["sqs:SendMessage"]
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
# IAM changes take seconds to reach Lambda on AWS; these messages mean "retry shortly".
_IAM_PROPAGATION_HINTS = (
    "cannot be assumed",
    "does not have permission",
    "execution role",
    "ensure the role",
    "cannot access stream",
)


def _arn_parts(table_arn: str) -> tuple[str, str, str]:
    """(partition, region, account) from a table ARN: no STS call needed."""
    parts = table_arn.split(":")
    return parts[1], parts[3], parts[4]


def function_statements(
    *, log_group_arn: str, stream_arn: str, retrain_table_arn: str, queue_arn: str
) -> list[dict[str, Any]]:
    """The function's only permissions: exactly what its code and Lambda for it call, each on
    exactly its resource. The code's calls come from ``flagger.permissions``. The ARNs may be
    concrete (provisioning) or CloudFormation references (``infra.deploy``): one list for both."""
    queue_actions = sorted(set(actions_on(FAILURE_QUEUE)) | set(MAPPING_QUEUE_ACTIONS))
    return [
        {
            "Sid": "ReadScoreStream",
            "Effect": "Allow",
            "Action": STREAM_READ_ACTIONS,
            "Resource": stream_arn,
        },
        {
            "Sid": "ListStreams",
            "Effect": "Allow",
            "Action": STREAM_LIST_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "WriteRetrainCandidates",
            "Effect": "Allow",
            "Action": actions_on(RETRAIN_TABLE),
            "Resource": retrain_table_arn,
        },
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": LOG_ACTIONS,
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {
            "Sid": "OnFailureDestination",
            "Effect": "Allow",
            "Action": queue_actions,
            "Resource": queue_arn,
        },
    ]


def function_policy(
    settings: InfraSettings, *, stream_arn: str, retrain_table_arn: str, queue_arn: str
) -> dict[str, Any]:
    """:func:`function_statements` as a policy document, its log group named after the function
    (Lambda's default ``/aws/lambda/<name>``) in the retrain table's partition/region/account."""
    partition, region, account = _arn_parts(retrain_table_arn)
    log_group = (
        f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{settings.function_name}"
    )
    return {
        "Version": "2012-10-17",
        "Statement": function_statements(
            log_group_arn=log_group,
            stream_arn=stream_arn,
            retrain_table_arn=retrain_table_arn,
            queue_arn=queue_arn,
        ),
    }


def _as_document(doc: Any) -> Any:
    """IAM returns policies URL-decoded to dicts by botocore, or as JSON strings by some mocks."""
    if isinstance(doc, str):
        return json.loads(unquote(doc))
    return doc


def get_role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


def ensure_function_role(
    settings: InfraSettings, clients: AwsClients, policy: dict[str, Any]
) -> tuple[list[Change], str]:
    """The function's role (trust: Lambda only) and its single inline policy. Returns its ARN."""
    iam = clients("iam")
    name = settings.function_role_name
    changes: list[Change] = []
    role = get_role(iam, name)
    if role is None:
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
            Description="Iris retrain flagger: read the score stream, write retrain candidates.",
        )["Role"]
        changes.append(Change("created", "role", name))
    elif _as_document(role.get("AssumeRolePolicyDocument")) != TRUST_POLICY:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(TRUST_POLICY))
        changes.append(Change("updated", "role", name, "trust policy"))
    else:
        changes.append(Change("unchanged", "role", name))

    policy_name = settings.function_policy_name
    try:
        current = _as_document(
            iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        )
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        current = None
    if current != policy:
        iam.put_role_policy(
            RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy)
        )
        changes.append(Change("created" if current is None else "updated", "policy", policy_name))
    else:
        changes.append(Change("unchanged", "policy", policy_name))
    return changes, role["Arn"]


def delete_function_role(settings: InfraSettings, clients: AwsClients) -> list[Change]:
    iam = clients("iam")
    name, policy_name = settings.function_role_name, settings.function_policy_name
    if get_role(iam, name) is None:
        return [Change("absent", "policy", policy_name), Change("absent", "role", name)]
    changes = []
    try:
        iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        changes.append(Change("deleted", "policy", policy_name))
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        changes.append(Change("absent", "policy", policy_name))
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    if attached:
        arns = ", ".join(p["PolicyArn"] for p in attached)
        raise ProvisioningError(f"role {name} has policies provisioning did not attach: {arns}")
    iam.delete_role(RoleName=name)
    changes.append(Change("deleted", "role", name))
    return changes


def retry_iam_propagation(call: Callable[[], T], timeout: float) -> T:
    """Retry a call that fails only because a fresh role has not reached Lambda yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as exc:
            message = str(exc).lower()
            retryable = error_code(exc) == "InvalidParameterValueException" and any(
                hint in message for hint in _IAM_PROPAGATION_HINTS
            )
            if not retryable or time.monotonic() >= deadline:
                raise
            time.sleep(3.0)
