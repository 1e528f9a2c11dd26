"""The synthesized deployment: resources, the provisioning settings they mirror, and exposure.

Each expected value is computed from ``infra.provision`` (key schema, stream view, mapping knobs,
function environment, the function's policy statements), so the CDK stack and
``iris-provision up`` cannot drift apart without a failure here.
"""

from __future__ import annotations

from typing import Any

from infra.deploy.stack import dockerfile_health_command
from infra.provision.function import function_variables
from infra.provision.iam import function_statements
from infra.provision.mapping import mapping_settings
from infra.provision.queue import QUEUE_RETENTION_S
from infra.provision.tables import (
    ATTRIBUTES,
    KEY_SCHEMA,
    REGISTRY_ATTRIBUTES,
    REGISTRY_KEY_SCHEMA,
    STREAM_VIEW,
)

from .conftest import ALLOWED_CIDR, Synth


def arn(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def test_resource_counts(synth: Synth) -> None:
    counts = {
        "AWS::DynamoDB::Table": 3,
        "AWS::S3::Bucket": 1,
        "AWS::SQS::Queue": 1,
        "AWS::Lambda::Function": 1,
        "AWS::Lambda::EventSourceMapping": 1,
        "AWS::ECS::Cluster": 1,
        "AWS::ECS::TaskDefinition": 2,
        "AWS::ECS::Service": 2,
        "AWS::ElasticLoadBalancingV2::LoadBalancer": 1,
        "AWS::ElasticLoadBalancingV2::Listener": 2,
        "AWS::ElasticLoadBalancingV2::TargetGroup": 2,
        "AWS::EC2::VPC": 1,
        "AWS::EC2::Subnet": 2,
        "AWS::EC2::NatGateway": 0,  # no NAT cost: public subnets, tasks with public IPs
        "AWS::EC2::VPCEndpoint": 2,  # DynamoDB and S3 gateway endpoints (free)
        "AWS::Logs::LogGroup": 3,
        "AWS::IAM::Role": 5,  # flagger, two task roles, two execution roles
        "AWS::SecretsManager::Secret": 1,
        "AWS::ServiceDiscovery::Service": 1,
    }
    for kind, count in counts.items():
        synth.template.resource_count_is(kind, count)


def test_tables_mirror_provisioning(synth: Synth) -> None:
    tables = {
        r["Properties"]["TableName"]: r for r in synth.resources("AWS::DynamoDB::Table").values()
    }
    s = synth.settings
    assert set(tables) == {s.score_table, s.retrain_table, s.registry_table}
    expected_keys = {
        s.score_table: (KEY_SCHEMA, ATTRIBUTES),
        s.retrain_table: (KEY_SCHEMA, ATTRIBUTES),
        s.registry_table: (REGISTRY_KEY_SCHEMA, REGISTRY_ATTRIBUTES),
    }
    for name, table in tables.items():
        props = table["Properties"]
        assert props["KeySchema"] == expected_keys[name][0], name
        assert props["AttributeDefinitions"] == expected_keys[name][1], name
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert table["DeletionPolicy"] == "Retain", name  # cdk destroy keeps the data
        stream = props.get("StreamSpecification")
        assert stream == ({"StreamViewType": STREAM_VIEW} if name == s.score_table else None)
    assert STREAM_VIEW == "NEW_IMAGE"


def test_mapping_mirrors_provisioning(synth: Synth) -> None:
    s = synth.settings
    queue = synth.logical_id(synth.stack.flagger.queue)
    score = synth.logical_id(synth.stack.data.score_table)
    function = synth.logical_id(synth.stack.flagger.function)
    _, mapping = synth.one("AWS::Lambda::EventSourceMapping")
    expected = mapping_settings(s, arn(queue)) | {
        "FunctionName": {"Ref": function},
        "EventSourceArn": arn(score, "StreamArn"),
        "StartingPosition": s.esm_starting_position,
        "Enabled": True,
    }
    assert mapping["Properties"] == expected
    # the knobs as the architecture fixes them (batches of 100, bisect, bounded retries)
    assert (expected["BatchSize"], expected["BisectBatchOnFunctionError"]) == (100, True)
    assert expected["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "FilterCriteria" not in mapping["Properties"]  # the confidence rule is the handler's


def test_function_mirrors_provisioning(synth: Synth) -> None:
    s = synth.settings
    queue = synth.logical_id(synth.stack.flagger.queue)
    role = synth.logical_id(synth.stack.flagger.role)
    logs = synth.logical_id(synth.stack.flagger.log_group)
    _, fn = synth.one("AWS::Lambda::Function")
    props = fn["Properties"]
    assert props["FunctionName"] == s.function_name
    assert (props["Handler"], props["Runtime"]) == (s.lambda_handler, s.lambda_runtime)
    assert (props["Timeout"], props["MemorySize"]) == (s.lambda_timeout_s, s.lambda_memory_mb)
    assert props["Environment"]["Variables"] == function_variables(s, {"Ref": queue})
    assert props["Role"] == arn(role)
    assert logs in fn["DependsOn"]  # the retained-period log group exists before the function
    _, q = synth.one("AWS::SQS::Queue")
    assert q["Properties"]["QueueName"] == s.failure_queue_name
    assert q["Properties"]["MessageRetentionPeriod"] == int(QUEUE_RETENTION_S)
    log_group = synth.resources("AWS::Logs::LogGroup")[logs]["Properties"]
    assert log_group == {"LogGroupName": f"/aws/lambda/{s.function_name}", "RetentionInDays": 30}


def test_function_role_is_provisionings_policy(synth: Synth) -> None:
    s = synth.settings
    st = synth.stack
    role_id = synth.logical_id(st.flagger.role)
    role = synth.resources("AWS::IAM::Role")[role_id]["Properties"]
    assert role["RoleName"] == s.function_role_name
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    assert policy["PolicyName"] == s.function_policy_name
    logs = arn(synth.logical_id(st.flagger.log_group))
    expected = function_statements(
        log_group_arn=logs,  # type: ignore[arg-type]
        stream_arn=arn(synth.logical_id(st.data.score_table), "StreamArn"),  # type: ignore[arg-type]
        retrain_table_arn=arn(synth.logical_id(st.data.retrain_table)),  # type: ignore[arg-type]
        queue_arn=arn(synth.logical_id(st.flagger.queue)),  # type: ignore[arg-type]
    )
    # CDK writes a one-action list as a string and joins "<arn>:*" with Fn::Join
    for statement in expected:
        if len(statement["Action"]) == 1:
            statement["Action"] = statement["Action"][0]
    expected[3]["Resource"] = [logs, {"Fn::Join": ["", [logs, ":*"]]}]
    assert policy["PolicyDocument"]["Statement"] == expected
    # exactly PutItem + UpdateItem on the retrain table
    assert expected[2]["Action"] == ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert not [
        p
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container.get("Environment", [])}


def _containers(synth: Synth) -> dict[str, dict[str, Any]]:
    out = {}
    for task in synth.resources("AWS::ECS::TaskDefinition").values():
        (container,) = task["Properties"]["ContainerDefinitions"]
        out[container["Name"]] = container | {"_task": task["Properties"]}
    return out


def test_task_definitions(synth: Synth) -> None:
    st = synth.stack
    containers = _containers(synth)
    assert set(containers) == {"model_api", "ui"}
    api, ui = containers["model_api"], containers["ui"]
    env = _env(api)
    assert env["IRIS_SCORE_TABLE"] == {"Ref": synth.logical_id(st.data.score_table)}
    assert env["IRIS_RETRAIN_TABLE"] == {"Ref": synth.logical_id(st.data.retrain_table)}
    assert env["IRIS_REGISTRY_TABLE"] == {"Ref": synth.logical_id(st.data.registry_table)}
    bucket = synth.logical_id(st.data.bucket)
    assert env["IRIS_OBJECT_STORE"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket}, "/model_api"]]}
    assert env["IRIS_HOST"] == "0.0.0.0" and env["IRIS_API_PORT"] == "8000"
    assert env["AWS_DEFAULT_REGION"] == {"Ref": "AWS::Region"}  # the stack's own region
    assert _env(ui)["IRIS_API_URL"] == "http://model-api.iris.internal:8000"
    for container in (api, ui):
        names = set(_env(container))
        assert "AWS_ENDPOINT_URL" not in names  # real AWS: the endpoint stays unset
        assert not names & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "IRIS_API_TOKEN"}
        (secret,) = container["Secrets"]  # the token comes from Secrets Manager, never the template
        assert secret["Name"] == "IRIS_API_TOKEN"
        assert secret["ValueFrom"] == {"Ref": synth.logical_id(st.web.token)}
    assert (api["_task"]["Cpu"], api["_task"]["Memory"]) == ("1024", "2048")
    assert (ui["_task"]["Cpu"], ui["_task"]["Memory"]) == ("256", "512")
    assert api["PortMappings"][0]["ContainerPort"] == 8000
    assert ui["PortMappings"][0]["ContainerPort"] == 8050
    # the Dockerfile's health check (ECS ignores an image's own), so Cloud Map lists only
    # model_api tasks that answer /health/ready
    for container in (api, ui):
        assert container["HealthCheck"]["Command"] == dockerfile_health_command()
        assert container["HealthCheck"]["Retries"] <= 10  # ECS's limit (the Dockerfile has 24)
    assert "HEALTHCHECK_URL" in dockerfile_health_command()[-1]
    (discovery,) = synth.resources("AWS::ServiceDiscovery::Service").values()
    assert discovery["Properties"]["HealthCheckCustomConfig"] == {"FailureThreshold": 1}
    assert discovery["Properties"]["Name"] == "model-api"
    assert api["Image"] == "iris-monitor/model-api:placeholder"  # the Dockerfile's target names
    assert ui["Image"] == "iris-monitor/ui:placeholder"


def test_services_and_load_balancer(synth: Synth) -> None:
    services = {
        s["Properties"]["TaskDefinition"]["Ref"]: s["Properties"]
        for s in synth.resources("AWS::ECS::Service").values()
    }
    api_task = synth.logical_id(synth.stack.web.api_service.task_definition)
    ui_task = synth.logical_id(synth.stack.web.ui_service.task_definition)
    assert services[api_task]["DesiredCount"] == 2
    assert services[ui_task]["DesiredCount"] == 1
    for service in services.values():
        assert service["LaunchType"] == "FARGATE"
        network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "ENABLED"
        assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
            "Enable": True,
            "Rollback": True,
        }
    _, alb = synth.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Properties"]["Scheme"] == "internet-facing"
    groups = {
        g["Properties"]["Port"]: g["Properties"]
        for g in synth.resources("AWS::ElasticLoadBalancingV2::TargetGroup").values()
    }
    assert groups[8000]["HealthCheckPath"] == "/health/ready"
    assert groups[8050]["HealthCheckPath"] == "/health"
    for group in groups.values():
        assert group["TargetType"] == "ip" and group["Matcher"] == {"HttpCode": "200"}
    listeners = {
        lst["Properties"]["Port"]: lst["Properties"]
        for lst in synth.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert set(listeners) == {80, 8000}
    tg_ids = {
        g["Properties"]["Port"]: k
        for k, g in synth.resources("AWS::ElasticLoadBalancingV2::TargetGroup").items()
    }
    assert listeners[80]["DefaultActions"][0]["TargetGroupArn"] == {"Ref": tg_ids[8050]}
    assert listeners[8000]["DefaultActions"][0]["TargetGroupArn"] == {"Ref": tg_ids[8000]}


def test_only_allowed_cidr_reaches_the_load_balancer(synth: Synth) -> None:
    alb_sg = synth.logical_id(synth.stack.web.alb.connections.security_groups[0])
    groups = synth.resources("AWS::EC2::SecurityGroup")
    ingress = groups[alb_sg]["Properties"]["SecurityGroupIngress"]
    assert {(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in ingress} == {
        (ALLOWED_CIDR, 80, 80),
        (ALLOWED_CIDR, 8000, 8000),
    }
    # nothing else in the stack is open to an address range: tasks admit security groups only
    for gid, group in groups.items():
        if gid != alb_sg:
            assert "SecurityGroupIngress" not in group["Properties"], gid
    for rule in synth.resources("AWS::EC2::SecurityGroupIngress").values():
        assert "SourceSecurityGroupId" in rule["Properties"]


def test_bucket_is_private_encrypted_and_ssl_only(synth: Synth) -> None:
    _, bucket = synth.one("AWS::S3::Bucket")
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["DeletionPolicy"] == "Retain"
    _, policy = synth.one("AWS::S3::BucketPolicy")
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_log_groups_have_retention(synth: Synth) -> None:
    for group in synth.resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 30
