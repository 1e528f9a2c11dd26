"""Least privilege across the whole stack: every statement of every role, exactly.

The model_api task role is ``model_api.permissions`` per resource; the dashboard's role has no
permission at all; the execution roles only write their own logs and read the token. No
statement has a ``*`` action, and the only ``*`` resource is the one AWS requires
(``dynamodb:ListStreams``, which acts on no stream, for the event source mapping).
"""

from __future__ import annotations

from typing import Any

from model_api import permissions as api

from .conftest import Synth


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["Statement"]


def all_statements(synth: Synth) -> list[dict[str, Any]]:
    out = []
    for role in synth.resources("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            out += statements(policy["PolicyDocument"])
    for policy in synth.resources("AWS::IAM::Policy").values():
        out += statements(policy["Properties"]["PolicyDocument"])
    return out


def attached(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    """The statements of the policies attached to one role."""
    return [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in statements(p["Properties"]["PolicyDocument"])
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_and_one_required_wildcard_resource(synth: Synth) -> None:
    wildcard_resources = []
    for statement in all_statements(synth):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement
        if "*" in as_list(statement["Resource"]):
            wildcard_resources.append(statement["Action"])
    assert wildcard_resources == ["dynamodb:ListStreams"]
    for role in synth.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_model_api_task_role_is_exactly_its_calls(synth: Synth) -> None:
    st = synth.stack
    role = synth.logical_id(st.web.api_role)
    bucket = synth.logical_id(st.data.bucket)
    bucket_arn = {"Fn::GetAtt": [bucket, "Arn"]}

    def one_or_list(actions: list[str]) -> Any:
        return actions[0] if len(actions) == 1 else actions

    def table_statement(sid: str, key: str, table: Any) -> dict[str, Any]:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Action": one_or_list(api.actions_on(key)),
            "Resource": {"Fn::GetAtt": [synth.logical_id(table), "Arn"]},
        }

    expected = [
        table_statement("ScoreTable", api.SCORE_TABLE, st.data.score_table),
        table_statement("RetrainTable", api.RETRAIN_TABLE, st.data.retrain_table),
        table_statement("RegistryTable", api.REGISTRY_TABLE, st.data.registry_table),
        {
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": one_or_list(api.actions_on(api.OBJECTS)),
            "Resource": {"Fn::Join": ["", [bucket_arn, "/model_api/*"]]},
        },
        {
            "Sid": "ListObjects",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,  # no prefix condition: see infra.deploy.policies
        },
    ]
    assert attached(synth, role) == expected
    # what the code calls, spelled out once (a change to permissions.py shows up here too)
    assert api.actions_on(api.SCORE_TABLE) == [
        "dynamodb:BatchWriteItem",
        "dynamodb:DescribeTable",
        "dynamodb:Query",
    ]
    assert "dynamodb:Scan" not in api.actions_on(api.SCORE_TABLE)
    # the shared outbox stages and drops a run's chunks in batches (scorelog/shared.py)
    assert "dynamodb:BatchWriteItem" in api.actions_on(api.REGISTRY_TABLE)
    assert "dynamodb:Scan" not in api.actions_on(api.REGISTRY_TABLE)
    assert api.actions_on(api.OBJECTS) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]


def test_dashboard_task_role_has_no_permissions(synth: Synth) -> None:
    role_id = synth.logical_id(synth.stack.web.ui_role)
    role = synth.resources("AWS::IAM::Role")[role_id]["Properties"]
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    assert attached(synth, role_id) == []


def test_execution_roles_only_write_own_logs_and_read_the_token(synth: Synth) -> None:
    web = synth.stack.web
    token = {"Ref": synth.logical_id(web.token)}
    for service in (web.api_service, web.ui_service):
        task = service.task_definition
        role_id = synth.logical_id(task.execution_role)
        (container,) = synth.resources("AWS::ECS::TaskDefinition")[synth.logical_id(task)][
            "Properties"
        ]["ContainerDefinitions"]
        log_group = container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
        assert attached(synth, role_id) == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
            },
            {
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Effect": "Allow",
                "Resource": token,
            },
        ]
