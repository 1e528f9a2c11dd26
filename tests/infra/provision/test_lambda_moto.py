"""The full provisioning (tables, queue, role + least-privilege policy, function, mapping)
against moto's server mode, which accepts these calls.

No item is ever written here once a mapping exists: moto would then try to run the function in
Docker and drop the stream's records. The flow itself is tested on the embedded stack.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from infra.aws import AwsClients, endpoint_supports_lambda, make_clients
from infra.config import InfraSettings
from infra.local.dynamodb_local import free_port
from infra.provision import provision_down, provision_status, provision_up
from infra.provision.package import build_function_zip
from moto.server import ThreadedMotoServer

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def flagger_src(tmp_path: Path) -> Path:
    """A stand-in handler package (the real one is another team's; its zip is tested too)."""
    pkg = tmp_path / "flagger"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""Stand-in."""\n')
    (pkg / "handler.py").write_text(
        "def lambda_handler(event, context):\n    return {'batchItemFailures': []}\n"
    )
    return pkg


@pytest.fixture
def settings(moto_url: str, table_names: dict[str, str], flagger_src: Path) -> InfraSettings:
    suffix = table_names["score"].rsplit("-", 1)[-1]
    return InfraSettings(
        aws_endpoint_url=moto_url,
        aws_region=REGION,
        score_table=table_names["score"],
        retrain_table=table_names["retrain"],
        registry_table=table_names["registry"],
        function_name=f"flagger-{suffix}",
        function_role_name=f"flagger-role-{suffix}",
        function_policy_name=f"flagger-policy-{suffix}",
        failure_queue_name=f"flagger-failures-{suffix}",
        lambda_source_dir=flagger_src,
        provision_wait_s=30,
    )


@pytest.fixture
def clients(settings: InfraSettings) -> AwsClients:
    return make_clients(settings, CREDS)


def _client(moto_url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto_url, region_name=REGION, **CREDS)


def _state(moto_url: str, s: InfraSettings) -> dict[str, Any]:
    """Everything provisioning decides, read back independently of the code under test."""
    ddb, lam, iam, sqs = (_client(moto_url, x) for x in ("dynamodb", "lambda", "iam", "sqs"))
    score = ddb.describe_table(TableName=s.score_table)["Table"]
    retrain = ddb.describe_table(TableName=s.retrain_table)["Table"]
    queue_url = sqs.get_queue_url(QueueName=s.failure_queue_name)["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    role = iam.get_role(RoleName=s.function_role_name)["Role"]
    fn = lam.get_function_configuration(FunctionName=s.function_name)
    mappings = lam.list_event_source_mappings(FunctionName=s.function_name)["EventSourceMappings"]
    return {
        "score": score,
        "retrain": retrain,
        "queue": queue,
        "role": role,
        "inline": iam.list_role_policies(RoleName=s.function_role_name)["PolicyNames"],
        "attached": iam.list_attached_role_policies(RoleName=s.function_role_name)[
            "AttachedPolicies"
        ],
        "policy": iam.get_role_policy(
            RoleName=s.function_role_name, PolicyName=s.function_policy_name
        )["PolicyDocument"],
        "function": fn,
        "mappings": mappings,
        "queue_url": queue_url,
    }


def test_moto_server_counts_as_a_lambda_endpoint(clients):
    assert endpoint_supports_lambda(clients) is True


def test_up_creates_everything_least_privilege(moto_url, settings, clients, flagger_src):
    report = provision_up(settings, clients=clients)  # with_lambda detected

    assert report.with_lambda
    assert [(c.action, c.kind) for c in report.changes] == [
        ("created", "table"),
        ("created", "table"),
        ("created", "table"),
        ("created", "queue"),
        ("created", "role"),
        ("created", "policy"),
        ("created", "function"),
        ("created", "mapping"),
    ]
    st = _state(moto_url, settings)
    stream_arn = st["score"]["LatestStreamArn"]
    assert st["score"]["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert st["queue"]["MessageRetentionPeriod"] == "1209600"
    queue_arn = st["queue"]["QueueArn"]

    trust = st["role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert st["attached"] == []  # no managed (FullAccess or any other) policy
    assert st["inline"] == [settings.function_policy_name]
    policy = st["policy"] if isinstance(st["policy"], dict) else json.loads(st["policy"])
    grants = {
        frozenset([s["Action"]] if isinstance(s["Action"], str) else s["Action"]): (
            sorted([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        )
        for s in policy["Statement"]
    }
    account = st["retrain"]["TableArn"].split(":")[4]
    log_group = f"arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/{settings.function_name}"
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert grants == {
        frozenset(
            {
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            }
        ): [stream_arn],
        # ListStreams cannot be scoped to a stream ARN (it lists them).
        frozenset({"dynamodb:ListStreams"}): ["*"],
        # conditional puts of new candidates (a transaction's Put is PutItem), updates of
        # existing ones: never a plain overwrite, so reviews stay.
        frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem"}): [st["retrain"]["TableArn"]],
        frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}): sorted(
            [log_group, f"{log_group}:*"]
        ),
        frozenset({"sqs:SendMessage"}): [queue_arn],
    }
    assert not any("*" in a for actions in grants for a in actions)
    wildcard = [
        s for s in policy["Statement"] if "*" in json.dumps(s["Resource"]).replace(":*", "")
    ]
    assert [s["Action"] for s in wildcard] == [["dynamodb:ListStreams"]]

    fn = st["function"]
    assert fn["Runtime"] == "python3.12"
    assert fn["Handler"] == "flagger.handler.lambda_handler"
    assert fn["Role"] == st["role"]["Arn"]
    assert fn["State"] == "Active"
    assert fn["Environment"]["Variables"] == {
        "RETRAIN_TABLE": settings.retrain_table,
        "CONFIDENCE_THRESHOLD": "0.9",
        "FAILURE_QUEUE_URL": st["queue_url"],
    }
    expected_zip = build_function_zip(flagger_src, settings.lambda_handler).zip_bytes
    assert fn["CodeSha256"] == base64.b64encode(hashlib.sha256(expected_zip).digest()).decode()

    assert len(st["mappings"]) == 1
    m = st["mappings"][0]
    assert m["EventSourceArn"] == stream_arn
    assert m["FunctionArn"] == fn["FunctionArn"]
    assert m["State"] == "Enabled"
    assert m["BatchSize"] == 100
    assert m["StartingPosition"] == "TRIM_HORIZON"
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert m["BisectBatchOnFunctionError"] is True
    assert m["MaximumRetryAttempts"] == 3
    assert m["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn

    provision_down(settings, clients=clients)


def test_up_twice_changes_nothing(moto_url, settings, clients):
    provision_up(settings, clients=clients)
    before = _state(moto_url, settings)

    again = provision_up(settings, clients=clients)

    assert not again.changed, [str(c) for c in again.changes]
    after = _state(moto_url, settings)
    assert after["function"]["CodeSha256"] == before["function"]["CodeSha256"]
    assert after["function"]["LastModified"] == before["function"]["LastModified"]
    assert after["mappings"] == before["mappings"]
    assert after["policy"] == before["policy"]
    assert after["score"]["CreationDateTime"] == before["score"]["CreationDateTime"]
    assert after["queue"]["QueueArn"] == before["queue"]["QueueArn"]
    provision_down(settings, clients=clients)


def test_changed_code_and_knobs_are_updated_in_place(moto_url, settings, clients, flagger_src):
    provision_up(settings, clients=clients)
    before = _state(moto_url, settings)

    (flagger_src / "rules.py").write_text("THRESHOLD_NOTE = 'changed'\n")
    changed = settings.model_copy(update={"esm_batch_size": 50, "flag_threshold": 0.75})
    report = provision_up(changed, clients=clients)

    updated = {(c.kind, c.action) for c in report.changes if c.action != "unchanged"}
    assert updated == {("function", "updated"), ("mapping", "updated")}
    after = _state(moto_url, settings)
    assert after["function"]["CodeSha256"] != before["function"]["CodeSha256"]
    assert after["function"]["Environment"]["Variables"]["CONFIDENCE_THRESHOLD"] == "0.75"
    assert [m["UUID"] for m in after["mappings"]] == [m["UUID"] for m in before["mappings"]]
    assert after["mappings"][0]["BatchSize"] == 50
    assert not provision_up(changed, clients=clients).changed
    provision_down(settings, clients=clients)


def test_missing_handler_module_is_a_clear_error(settings, clients, flagger_src):
    (flagger_src / "handler.py").unlink()
    from infra.provision.package import LambdaPackageError

    with pytest.raises(LambdaPackageError, match=r"flagger/handler\.py"):
        provision_up(settings, clients=clients)
    lam = _client(settings.aws_endpoint_url or "", "lambda")
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert settings.function_name not in names
    provision_down(settings, clients=clients)


def test_down_removes_everything_and_is_idempotent(moto_url, settings, clients):
    provision_up(settings, clients=clients)
    uuid = _state(moto_url, settings)["mappings"][0]["UUID"]

    down = provision_down(settings, clients=clients)

    assert [(c.action, c.kind) for c in down.changes if c.kind != "logs"] == [
        ("deleted", "mapping"),
        ("deleted", "function"),
        ("deleted", "policy"),
        ("deleted", "role"),
        ("deleted", "queue"),
        ("deleted", "table"),
        ("deleted", "table"),
        ("deleted", "table"),
    ]
    lam, iam, sqs, ddb = (_client(moto_url, x) for x in ("lambda", "iam", "sqs", "dynamodb"))
    assert settings.function_name not in [
        f["FunctionName"] for f in lam.list_functions()["Functions"]
    ]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=uuid)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=settings.function_role_name)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=settings.failure_queue_name)
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName=settings.score_table)

    again = provision_down(settings, clients=clients)
    assert not again.changed
    status = provision_status(settings, clients=clients)
    assert status["function"] is None and status["score_table"] is None


def test_cli_with_lambda_up_status_down(moto_url, settings, monkeypatch, capsys):
    """The command the Compose `provision` service runs, end to end against moto."""
    from infra.provision.cli import main as cli_main

    env = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "IRIS_SCORE_TABLE": settings.score_table,
        "IRIS_RETRAIN_TABLE": settings.retrain_table,
        "IRIS_REGISTRY_TABLE": settings.registry_table,
        "IRIS_FUNCTION_NAME": settings.function_name,
        "IRIS_FUNCTION_ROLE_NAME": settings.function_role_name,
        "IRIS_FUNCTION_POLICY_NAME": settings.function_policy_name,
        "IRIS_FAILURE_QUEUE_NAME": settings.failure_queue_name,
        "IRIS_LAMBDA_SOURCE_DIR": str(settings.lambda_source_dir),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert cli_main(["up", "--with-lambda", "--wait", "30"]) == 0
    out = capsys.readouterr().out
    assert "(with Lambda)" in out and f"created   function {settings.function_name}" in out

    assert cli_main(["status", "--with-lambda"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["function"]["State"] == "Active"
    assert [m["State"] for m in status["mappings"]] == ["Enabled"]

    assert cli_main(["down", "--with-lambda", "--yes", "--json"]) == 0
    down = json.loads(capsys.readouterr().out)
    assert down["changed"] and {c["action"] for c in down["changes"]} <= {"deleted", "absent"}
    assert provision_status(settings, clients=make_clients(settings, CREDS))["function"] is None


def test_recreated_score_table_moves_mapping_and_policy_to_the_new_stream(
    moto_url, settings, clients
):
    provision_up(settings, clients=clients)
    old = _state(moto_url, settings)
    ddb = _client(moto_url, "dynamodb")
    ddb.delete_table(TableName=settings.score_table)

    report = provision_up(settings, clients=clients)

    changes = {(c.kind, c.action) for c in report.changes}
    assert ("table", "created") in changes
    assert ("policy", "updated") in changes
    assert ("mapping", "deleted") in changes and ("mapping", "created") in changes
    new = _state(moto_url, settings)
    new_stream = new["score"]["LatestStreamArn"]
    assert new_stream != old["score"]["LatestStreamArn"]
    assert [m["EventSourceArn"] for m in new["mappings"]] == [new_stream]
    policy = new["policy"] if isinstance(new["policy"], dict) else json.loads(new["policy"])
    read = next(s for s in policy["Statement"] if "dynamodb:GetRecords" in s["Action"])
    assert read["Resource"] == new_stream
    assert not provision_up(settings, clients=clients).changed
    provision_down(settings, clients=clients)
