"""Provisioning for every endpoint: DynamoDB Local, LocalStack or AWS, chosen by configuration.

``provision_up`` creates what the seed clicked through by hand — the score table (stream
NEW_IMAGE), the retrain table and, where the endpoint has Lambda, the on-failure queue, a
least-privilege role, the retrain flagger function and its event source mapping. Every step
reads the current state first and only changes what differs, so running it twice changes
nothing; ``provision_down`` removes exactly those resources. Each function returns the list of
changes it made, which the CLI prints and the tests check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar
from urllib.parse import unquote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flagger.permissions import FAILURE_QUEUE, RETRAIN_TABLE, actions_on

from infra.config import InfraSettings
from infra.dynamodb_local import LOCAL_CREDENTIALS
from infra.lambda_package import build_function_zip

Action = Literal["created", "updated", "deleted", "unchanged", "absent"]
T = TypeVar("T")

KEY_SCHEMA = [
    {"AttributeName": "partition_key", "KeyType": "HASH"},
    {"AttributeName": "sort_key", "KeyType": "RANGE"},
]
ATTRIBUTES = [
    {"AttributeName": "partition_key", "AttributeType": "S"},
    {"AttributeName": "sort_key", "AttributeType": "S"},
]
STREAM_VIEW = "NEW_IMAGE"
# The handler reads NewImage; these view types carry it.
_STREAM_VIEWS_WITH_NEW_IMAGE = {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}
QUEUE_RETENTION_S = "1209600"  # 14 days, the SQS maximum: failed batches wait for a human
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


class ProvisioningError(RuntimeError):
    """Provisioning cannot continue; the message says why and what to do."""


@dataclass(frozen=True)
class Change:
    """One resource and what provisioning did to it."""

    action: Action
    kind: str
    name: str
    detail: str = ""

    def __str__(self) -> str:
        tail = f"  ({self.detail})" if self.detail else ""
        return f"{self.action:<9} {self.kind:<8} {self.name}{tail}"


@dataclass
class ProvisionReport:
    """All changes of one ``up`` or ``down`` run, in order."""

    endpoint: str
    with_lambda: bool
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.action in ("created", "updated", "deleted") for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "with_lambda": self.with_lambda,
            "changed": self.changed,
            "changes": [asdict(c) for c in self.changes],
        }


@dataclass
class AwsClients:
    """boto3 clients for one endpoint (None = real AWS), created on first use."""

    session: boto3.Session
    endpoint_url: str | None
    config: Config = field(
        default_factory=lambda: Config(
            retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
        )
    )
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self.session.client(
                service, endpoint_url=self.endpoint_url, config=self.config
            )
        return self._cache[service]

    @cached_property
    def label(self) -> str:
        return self.endpoint_url or f"AWS ({self.session.region_name})"


def make_clients(settings: InfraSettings, credentials: dict[str, str] | None = None) -> AwsClients:
    """Clients for the configured endpoint, using the standard credential chain.

    A custom endpoint (DynamoDB Local, LocalStack) with no credentials configured anywhere gets
    the dummy ``local`` pair, since such endpoints accept any; real AWS never does.
    """
    session = boto3.Session(region_name=settings.aws_region, **(credentials or {}))
    if credentials is None and settings.aws_endpoint_url and session.get_credentials() is None:
        session = boto3.Session(region_name=settings.aws_region, **LOCAL_CREDENTIALS)
    return AwsClients(session=session, endpoint_url=settings.aws_endpoint_url)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    timeout: float,
    what: str,
    delay: float = 0.5,
) -> T:
    """Call ``fetch`` until ``done(result)``; bounded, with a clear error when it is not."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() >= deadline:
            raise ProvisioningError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)


# Errors that waiting will not fix: report them at once.
_AUTH_ERRORS = {"UnrecognizedClientException", "InvalidSignatureException", "AccessDenied"}


def wait_for_endpoint(clients: AwsClients, timeout: float) -> None:
    """Block until the DynamoDB API answers (useful right after a container starts)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            clients("dynamodb").list_tables(Limit=1)
            return
        except (BotoCoreError, ClientError) as exc:
            if isinstance(exc, ClientError) and _error_code(exc) in _AUTH_ERRORS:
                raise
            if time.monotonic() >= deadline:
                raise ProvisioningError(
                    f"the DynamoDB API at {clients.label} did not answer within {timeout:.0f}s: "
                    f"{exc}"
                ) from exc
            time.sleep(1.0)


def endpoint_supports_lambda(clients: AwsClients) -> bool:
    """True for AWS and LocalStack/moto; False for DynamoDB Local, which has only DynamoDB."""
    if clients.endpoint_url is None:
        return True
    probe = clients.session.client(
        "lambda",
        endpoint_url=clients.endpoint_url,
        config=Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5),
    )
    try:
        probe.list_functions(MaxItems=1)
        return True
    except (BotoCoreError, ClientError):
        return False


# --------------------------------------------------------------------------------- tables
def describe_table(ddb: Any, name: str) -> dict[str, Any] | None:
    """The table's description, or None when it does not exist."""
    try:
        return ddb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if _error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _wait_table_active(ddb: Any, name: str, timeout: float, stream: bool) -> dict[str, Any]:
    def ready(table: dict[str, Any] | None) -> bool:
        if table is None or table.get("TableStatus") != "ACTIVE":
            return False
        return not stream or bool(table.get("LatestStreamArn"))

    return _poll(lambda: describe_table(ddb, name), ready, timeout, f"table {name} ACTIVE")  # type: ignore[return-value]


def _wait_stream_enabled(streams: Any, table: dict[str, Any], timeout: float) -> None:
    """Wait until the table's stream is ENABLED, not just named in DescribeTable.

    AWS reports a new stream ENABLING for a moment; LocalStack's stream (kinesis-mock) stays
    ENABLING for seconds after the table is ACTIVE and drops the records of every write made in
    that time. DynamoDB Local answers ENABLED at once. Writers may start as soon as this returns.
    """
    arn = table["LatestStreamArn"]
    _poll(
        lambda: streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"],
        lambda d: d.get("StreamStatus") == "ENABLED",
        timeout,
        f"the stream of {table['TableName']} ENABLED",
        delay=0.2,
    )


def _check_keys(table: dict[str, Any]) -> None:
    keys = {(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])}
    if keys != {(k["AttributeName"], k["KeyType"]) for k in KEY_SCHEMA}:
        raise ProvisioningError(
            f"table {table['TableName']} exists with key schema {sorted(keys)}; the record "
            "contract needs partition_key (HASH, S) and sort_key (RANGE, S). Choose another "
            "table name (IRIS_SCORE_TABLE / IRIS_RETRAIN_TABLE) or remove that table."
        )


def ensure_table(
    ddb: Any, name: str, *, stream: bool, timeout: float, streams: Any = None
) -> Change:
    """Create the table (on-demand; stream NEW_IMAGE if asked) or bring its stream up to date.

    With ``stream``, ``streams`` (a DynamoDB Streams client) is required: the table counts as
    ready only once its stream is ENABLED, so no write made after this returns is lost.
    """
    if stream and streams is None:
        raise ValueError("ensure_table(stream=True) needs a dynamodbstreams client")
    table = describe_table(ddb, name)
    if table is None:
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": KEY_SCHEMA,
            "AttributeDefinitions": ATTRIBUTES,
            "BillingMode": "PAY_PER_REQUEST",
        }
        if stream:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW}
        try:
            ddb.create_table(**kwargs)
        except ClientError as exc:  # created concurrently by another provisioner: fine
            if _error_code(exc) != "ResourceInUseException":
                raise
        table = _wait_table_active(ddb, name, timeout, stream)
        if stream:
            _wait_stream_enabled(streams, table, timeout)
        return Change("created", "table", name, "stream NEW_IMAGE" if stream else "")
    if table.get("TableStatus") == "DELETING":  # a `down` still finishing: wait, then create
        _poll(lambda: describe_table(ddb, name), lambda t: t is None, timeout, f"{name} deleted")
        return ensure_table(ddb, name, stream=stream, timeout=timeout, streams=streams)
    _check_keys(table)
    if table.get("TableStatus") != "ACTIVE":
        table = _wait_table_active(ddb, name, timeout, stream=False)
    spec = table.get("StreamSpecification") or {}
    if not stream or spec.get("StreamEnabled"):
        view = spec.get("StreamViewType")
        if stream and view not in _STREAM_VIEWS_WITH_NEW_IMAGE:
            raise ProvisioningError(
                f"table {name} has a {view} stream; the flagger needs NEW_IMAGE. Disable the "
                "stream (update-table --stream-specification StreamEnabled=false) and run again."
            )
        if stream:
            _wait_stream_enabled(streams, table, timeout)
        return Change("unchanged", "table", name)
    ddb.update_table(
        TableName=name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
    )
    table = _wait_table_active(ddb, name, timeout, stream=True)
    _wait_stream_enabled(streams, table, timeout)
    return Change("updated", "table", name, "stream NEW_IMAGE enabled")


def delete_table(ddb: Any, name: str, timeout: float) -> Change:
    """Delete the table if it exists and wait until it is gone."""
    if describe_table(ddb, name) is None:
        return Change("absent", "table", name)
    try:
        ddb.delete_table(TableName=name)
    except ClientError as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise
    _poll(lambda: describe_table(ddb, name), lambda t: t is None, timeout, f"{name} deleted")
    return Change("deleted", "table", name)


def ensure_tables(settings: InfraSettings, clients: AwsClients) -> list[Change]:
    """The score table (stream NEW_IMAGE) and the retrain table."""
    ddb = clients("dynamodb")
    wait = settings.provision_wait_s
    streams = clients("dynamodbstreams")
    return [
        ensure_table(ddb, settings.score_table, stream=True, timeout=wait, streams=streams),
        ensure_table(ddb, settings.retrain_table, stream=False, timeout=wait),
    ]


# ---------------------------------------------------------------------------------- queue
def _queue_url(sqs: Any, name: str) -> str | None:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if "NonExistentQueue" in _error_code(exc) or "QueueDoesNotExist" in _error_code(exc):
            return None
        raise


def ensure_failure_queue(settings: InfraSettings, clients: AwsClients) -> tuple[Change, str]:
    """The on-failure destination: batches that never succeed land here. Returns its ARN."""
    sqs = clients("sqs")
    name = settings.failure_queue_name
    url = _queue_url(sqs, name)
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
    url = _queue_url(sqs, settings.failure_queue_name)
    if url is None:
        return Change("absent", "queue", settings.failure_queue_name)
    sqs.delete_queue(QueueUrl=url)
    return Change("deleted", "queue", settings.failure_queue_name)


# ----------------------------------------------------------------------------------- role
def _arn_parts(table_arn: str) -> tuple[str, str, str]:
    """(partition, region, account) from a table ARN: no STS call needed."""
    parts = table_arn.split(":")
    return parts[1], parts[3], parts[4]


def function_policy(
    settings: InfraSettings, *, stream_arn: str, retrain_table_arn: str, queue_arn: str
) -> dict[str, Any]:
    """The function's only permissions: exactly what its code and Lambda for it call, each on
    exactly its resource. The code's calls come from ``flagger.permissions``."""
    partition, region, account = _arn_parts(retrain_table_arn)
    log_group = (
        f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{settings.function_name}"
    )
    queue_actions = sorted(set(actions_on(FAILURE_QUEUE)) | set(MAPPING_QUEUE_ACTIONS))
    return {
        "Version": "2012-10-17",
        "Statement": [
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
                "Resource": [log_group, f"{log_group}:*"],
            },
            {
                "Sid": "OnFailureDestination",
                "Effect": "Allow",
                "Action": queue_actions,
                "Resource": queue_arn,
            },
        ],
    }


def _as_document(doc: Any) -> Any:
    """IAM returns policies URL-decoded to dicts by botocore, or as JSON strings by some mocks."""
    if isinstance(doc, str):
        return json.loads(unquote(doc))
    return doc


def _get_role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if _error_code(exc) == "NoSuchEntity":
            return None
        raise


def ensure_function_role(
    settings: InfraSettings, clients: AwsClients, policy: dict[str, Any]
) -> tuple[list[Change], str]:
    """The function's role (trust: Lambda only) and its single inline policy. Returns its ARN."""
    iam = clients("iam")
    name = settings.function_role_name
    changes: list[Change] = []
    role = _get_role(iam, name)
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
        if _error_code(exc) != "NoSuchEntity":
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
    if _get_role(iam, name) is None:
        return [Change("absent", "policy", policy_name), Change("absent", "role", name)]
    changes = []
    try:
        iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        changes.append(Change("deleted", "policy", policy_name))
    except ClientError as exc:
        if _error_code(exc) != "NoSuchEntity":
            raise
        changes.append(Change("absent", "policy", policy_name))
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    if attached:
        arns = ", ".join(p["PolicyArn"] for p in attached)
        raise ProvisioningError(f"role {name} has policies provisioning did not attach: {arns}")
    iam.delete_role(RoleName=name)
    changes.append(Change("deleted", "role", name))
    return changes


# ------------------------------------------------------------------------------- function
def _get_function(lam: Any, name: str) -> dict[str, Any] | None:
    try:
        return lam.get_function_configuration(FunctionName=name)
    except ClientError as exc:
        if _error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _wait_function_ready(lam: Any, name: str, timeout: float) -> dict[str, Any]:
    def ready(conf: dict[str, Any] | None) -> bool:
        if conf is None:
            return False
        if conf.get("State") == "Failed" or conf.get("LastUpdateStatus") == "Failed":
            reason = conf.get("StateReason") or conf.get("LastUpdateStatusReason")
            raise ProvisioningError(f"function {name} failed: {reason}")
        return conf.get("State", "Active") == "Active" and conf.get(
            "LastUpdateStatus", "Successful"
        ) in ("Successful", None)

    return _poll(lambda: _get_function(lam, name), ready, timeout, f"function {name} Active")  # type: ignore[return-value]


def _retry_iam_propagation(call: Callable[[], T], timeout: float) -> T:
    """Retry a call that fails only because a fresh role has not reached Lambda yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as exc:
            message = str(exc).lower()
            retryable = _error_code(exc) == "InvalidParameterValueException" and any(
                hint in message for hint in _IAM_PROPAGATION_HINTS
            )
            if not retryable or time.monotonic() >= deadline:
                raise
            time.sleep(3.0)


def ensure_function(
    settings: InfraSettings, clients: AwsClients, role_arn: str, queue_url: str | None = None
) -> Change:
    """The flagger function: created, or its code/configuration updated when they differ.

    ``queue_url`` (the on-failure queue) is where the function sends unreadable records that
    have no key to copy them under."""
    if settings.lambda_source_dir is None:
        raise ProvisioningError(
            "the flagger package is not installed; set IRIS_LAMBDA_SOURCE_DIR to "
            "services/lambda/src/flagger"
        )
    package = build_function_zip(settings.lambda_source_dir, settings.lambda_handler)
    lam = clients("lambda")
    name = settings.function_name
    wanted: dict[str, Any] = {
        "Runtime": settings.lambda_runtime,
        "Handler": settings.lambda_handler,
        "Role": role_arn,
        "Timeout": settings.lambda_timeout_s,
        "MemorySize": settings.lambda_memory_mb,
        "Environment": {
            "Variables": {
                "RETRAIN_TABLE": settings.retrain_table,
                "CONFIDENCE_THRESHOLD": str(settings.flag_threshold),
                **({"FAILURE_QUEUE_URL": queue_url} if queue_url else {}),
            }
        },
    }
    wait = settings.provision_wait_s
    conf = _get_function(lam, name)
    if conf is None:
        _retry_iam_propagation(
            lambda: lam.create_function(
                FunctionName=name,
                Code={"ZipFile": package.zip_bytes},
                Description="Iris retrain flagger: copies problem score records to retraining.",
                Publish=False,
                **wanted,
            ),
            wait,
        )
        _wait_function_ready(lam, name, wait)
        return Change("created", "function", name, f"code {package.code_sha256}")
    conf = _wait_function_ready(lam, name, wait)
    details = []
    current = {key: conf.get(key) for key in wanted}
    current["Environment"] = {"Variables": (conf.get("Environment") or {}).get("Variables", {})}
    if current != wanted:
        differing = sorted(k for k in wanted if current.get(k) != wanted[k])
        _retry_iam_propagation(
            lambda: lam.update_function_configuration(FunctionName=name, **wanted), wait
        )
        _wait_function_ready(lam, name, wait)
        details.append("configuration: " + ", ".join(differing))
    if conf.get("CodeSha256") != package.code_sha256:
        lam.update_function_code(FunctionName=name, ZipFile=package.zip_bytes)
        _wait_function_ready(lam, name, wait)
        details.append(f"code {package.code_sha256}")
    if details:
        return Change("updated", "function", name, "; ".join(details))
    return Change("unchanged", "function", name)


def delete_function(settings: InfraSettings, clients: AwsClients) -> Change:
    lam = clients("lambda")
    if _get_function(lam, settings.function_name) is None:
        return Change("absent", "function", settings.function_name)
    lam.delete_function(FunctionName=settings.function_name)
    return Change("deleted", "function", settings.function_name)


# -------------------------------------------------------------------------------- mapping
def mapping_settings(settings: InfraSettings, queue_arn: str) -> dict[str, Any]:
    """The event source mapping's knobs (the local runner reads the same settings)."""
    return {
        "BatchSize": settings.esm_batch_size,
        "MaximumRetryAttempts": settings.esm_max_retries,
        "BisectBatchOnFunctionError": settings.esm_bisect_on_error,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": queue_arn}},
    }


def _mapping_differences(mapping: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    differing = [
        key
        for key in ("BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError")
        if mapping.get(key) != wanted[key]
    ]
    if sorted(mapping.get("FunctionResponseTypes") or []) != wanted["FunctionResponseTypes"]:
        differing.append("FunctionResponseTypes")
    on_failure = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination"
    )
    if on_failure != wanted["DestinationConfig"]["OnFailure"]["Destination"]:
        differing.append("DestinationConfig")
    return differing


def _function_mappings(lam: Any, function_name: str) -> list[dict[str, Any]]:
    mappings: list[dict[str, Any]] = []
    for page in lam.get_paginator("list_event_source_mappings").paginate(
        FunctionName=function_name
    ):
        mappings.extend(page.get("EventSourceMappings", []))
    return mappings


def _get_mapping(lam: Any, uuid: str) -> dict[str, Any] | None:
    try:
        return lam.get_event_source_mapping(UUID=uuid)
    except ClientError as exc:
        if _error_code(exc) == "ResourceNotFoundException":
            return None
        raise


_TRANSITIONAL = {"Creating", "Enabling", "Updating", "Disabling"}


def _wait_mapping_enabled(lam: Any, uuid: str, timeout: float) -> dict[str, Any]:
    def ready(mapping: dict[str, Any] | None) -> bool:
        if mapping is None:
            raise ProvisioningError(f"event source mapping {uuid} disappeared")
        return mapping.get("State") == "Enabled"

    return _poll(lambda: _get_mapping(lam, uuid), ready, timeout, f"mapping {uuid} Enabled")  # type: ignore[return-value]


def _wait_mapping_settled(lam: Any, uuid: str, timeout: float) -> dict[str, Any] | None:
    return _poll(
        lambda: _get_mapping(lam, uuid),
        lambda m: m is None or m.get("State") not in _TRANSITIONAL,
        timeout,
        f"mapping {uuid} to settle",
    )


def _delete_mapping(lam: Any, uuid: str, timeout: float) -> None:
    _wait_mapping_settled(lam, uuid, timeout)
    try:
        lam.delete_event_source_mapping(UUID=uuid)
    except ClientError as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise
    _poll(lambda: _get_mapping(lam, uuid), lambda m: m is None, timeout, f"{uuid} deleted")


def ensure_event_source_mapping(
    settings: InfraSettings, clients: AwsClients, stream_arn: str, queue_arn: str
) -> list[Change]:
    """One mapping from the score stream to the function, with the settings' knobs."""
    lam = clients("lambda")
    fn = settings.function_name
    wanted = mapping_settings(settings, queue_arn)
    wait = settings.provision_wait_s
    changes: list[Change] = []
    ours = [m for m in _function_mappings(lam, fn) if m.get("EventSourceArn") == stream_arn]
    stale_prefix = stream_arn.split("/stream/")[0] + "/stream/"
    for mapping in _function_mappings(lam, fn):
        arn = mapping.get("EventSourceArn", "")
        if arn != stream_arn and arn.startswith(stale_prefix):  # an earlier stream of the table
            _delete_mapping(lam, mapping["UUID"], wait)
            changes.append(Change("deleted", "mapping", mapping["UUID"], f"stale {arn}"))
    for extra in ours[1:]:  # a concurrent second `up`: keep one
        _delete_mapping(lam, extra["UUID"], wait)
        changes.append(Change("deleted", "mapping", extra["UUID"], "duplicate"))
    if not ours:
        created = _retry_iam_propagation(
            lambda: lam.create_event_source_mapping(
                FunctionName=fn,
                EventSourceArn=stream_arn,
                StartingPosition=settings.esm_starting_position,
                Enabled=True,
                **wanted,
            ),
            wait,
        )
        _wait_mapping_enabled(lam, created["UUID"], wait)
        changes.append(Change("created", "mapping", created["UUID"], f"{stream_arn} -> {fn}"))
        return changes
    mapping = _wait_mapping_settled(lam, ours[0]["UUID"], wait) or ours[0]
    differing = _mapping_differences(mapping, wanted)
    if mapping.get("State") != "Enabled":
        differing.append("Enabled")
    if differing:
        _retry_iam_propagation(
            lambda: lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True, **wanted),
            wait,
        )
        changes.append(Change("updated", "mapping", mapping["UUID"], ", ".join(differing)))
    else:
        changes.append(Change("unchanged", "mapping", mapping["UUID"]))
    _wait_mapping_enabled(lam, mapping["UUID"], wait)
    return changes


def delete_event_source_mappings(settings: InfraSettings, clients: AwsClients) -> list[Change]:
    lam = clients("lambda")
    if _get_function(lam, settings.function_name) is None:
        return [Change("absent", "mapping", settings.function_name)]
    mappings = _function_mappings(lam, settings.function_name)
    if not mappings:
        return [Change("absent", "mapping", settings.function_name)]
    for mapping in mappings:
        _delete_mapping(lam, mapping["UUID"], settings.provision_wait_s)
    return [Change("deleted", "mapping", m["UUID"]) for m in mappings]


def delete_log_group(settings: InfraSettings, clients: AwsClients) -> Change:
    """The function's log group (Lambda creates it on first run): removed with the function."""
    name = f"/aws/lambda/{settings.function_name}"
    try:
        clients("logs").delete_log_group(logGroupName=name)
        return Change("deleted", "logs", name)
    except ClientError as exc:
        if _error_code(exc) == "ResourceNotFoundException":
            return Change("absent", "logs", name)
        raise


# ------------------------------------------------------------------------------ commands
def _resolve(
    settings: InfraSettings | None, clients: AwsClients | None, with_lambda: bool | None
) -> tuple[InfraSettings, AwsClients, bool]:
    settings = settings or InfraSettings()
    clients = clients or make_clients(settings)
    if with_lambda is None:
        with_lambda = settings.with_lambda
    if with_lambda is None:
        with_lambda = endpoint_supports_lambda(clients)
    return settings, clients, with_lambda


def provision_up(
    settings: InfraSettings | None = None,
    *,
    with_lambda: bool | None = None,
    clients: AwsClients | None = None,
) -> ProvisionReport:
    """Create or update everything; a second run reports every resource ``unchanged``."""
    settings, clients, with_lambda = _resolve(settings, clients, with_lambda)
    report = ProvisionReport(endpoint=clients.label, with_lambda=with_lambda)
    report.changes += ensure_tables(settings, clients)
    if not with_lambda:
        return report
    ddb = clients("dynamodb")
    score = describe_table(ddb, settings.score_table) or {}
    retrain = describe_table(ddb, settings.retrain_table) or {}
    stream_arn = score["LatestStreamArn"]
    queue_change, queue_arn = ensure_failure_queue(settings, clients)
    report.changes.append(queue_change)
    policy = function_policy(
        settings,
        stream_arn=stream_arn,
        retrain_table_arn=retrain["TableArn"],
        queue_arn=queue_arn,
    )
    role_changes, role_arn = ensure_function_role(settings, clients, policy)
    report.changes += role_changes
    queue_url = _queue_url(clients("sqs"), settings.failure_queue_name)
    report.changes.append(ensure_function(settings, clients, role_arn, queue_url))
    report.changes += ensure_event_source_mapping(settings, clients, stream_arn, queue_arn)
    return report


def provision_down(
    settings: InfraSettings | None = None,
    *,
    with_lambda: bool | None = None,
    keep_tables: bool = False,
    clients: AwsClients | None = None,
) -> ProvisionReport:
    """Remove what ``provision_up`` made, in reverse order; absent resources are fine."""
    settings, clients, with_lambda = _resolve(settings, clients, with_lambda)
    report = ProvisionReport(endpoint=clients.label, with_lambda=with_lambda)
    if with_lambda:
        report.changes += delete_event_source_mappings(settings, clients)
        report.changes.append(delete_function(settings, clients))
        report.changes += delete_function_role(settings, clients)
        report.changes.append(delete_failure_queue(settings, clients))
        report.changes.append(delete_log_group(settings, clients))
    if not keep_tables:
        ddb = clients("dynamodb")
        for name in (settings.score_table, settings.retrain_table):
            report.changes.append(delete_table(ddb, name, settings.provision_wait_s))
    return report


def provision_status(
    settings: InfraSettings | None = None,
    *,
    with_lambda: bool | None = None,
    clients: AwsClients | None = None,
) -> dict[str, Any]:
    """What exists right now (read-only), for ``iris-provision status``."""
    settings, clients, with_lambda = _resolve(settings, clients, with_lambda)
    ddb = clients("dynamodb")
    status: dict[str, Any] = {"endpoint": clients.label, "with_lambda": with_lambda}
    for key, name in (
        ("score_table", settings.score_table),
        ("retrain_table", settings.retrain_table),
    ):
        table = describe_table(ddb, name)
        status[key] = (
            None
            if table is None
            else {
                "name": name,
                "status": table.get("TableStatus"),
                "items": table.get("ItemCount"),
                "stream": (table.get("StreamSpecification") or {}).get("StreamViewType"),
                "stream_arn": table.get("LatestStreamArn"),
            }
        )
    if not with_lambda:
        return status
    sqs = clients("sqs")
    status["queue"] = _queue_url(sqs, settings.failure_queue_name)
    status["role"] = (_get_role(clients("iam"), settings.function_role_name) or {}).get("Arn")
    lam = clients("lambda")
    conf = _get_function(lam, settings.function_name)
    status["function"] = (
        None
        if conf is None
        else {k: conf.get(k) for k in ("FunctionArn", "State", "Runtime", "CodeSha256")}
    )
    status["mappings"] = (
        []
        if conf is None
        else [
            {k: m.get(k) for k in ("UUID", "State", "EventSourceArn", "BatchSize")}
            for m in _function_mappings(lam, settings.function_name)
        ]
    )
    return status
