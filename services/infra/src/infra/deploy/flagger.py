"""The retrain flagger: on-failure queue, role, function and the score stream's mapping.

Everything mirrors ``infra.provision``: the role's one inline policy is
:func:`infra.provision.iam.function_statements` (same statements, CloudFormation references for
the ARNs), the function's code is the deterministic zip of :mod:`infra.provision.package`, its
environment :func:`~infra.provision.function.function_variables`, and the mapping's knobs
:func:`~infra.provision.mapping.mapping_settings`. The event source mapping is the plain
CloudFormation resource on purpose: CDK's ``DynamoEventSource`` would add its own grants to the
role beside the ones above.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import InfraSettings
from infra.provision.function import function_variables
from infra.provision.iam import TRUST_POLICY, function_statements
from infra.provision.mapping import mapping_settings
from infra.provision.package import LambdaPackageError, build_function_zip
from infra.provision.queue import QUEUE_RETENTION_S


def function_zip(settings: InfraSettings) -> Path:
    """The same zip ``iris-provision`` uploads, written where CDK can take it as an asset."""
    if settings.lambda_source_dir is None:
        raise LambdaPackageError("the flagger package is not installed (uv sync --all-packages)")
    package = build_function_zip(settings.lambda_source_dir, settings.lambda_handler)
    digest = package.code_sha256.replace("/", "_").replace("+", "-").rstrip("=")
    path = Path(tempfile.gettempdir()) / "iris-deploy" / f"flagger-{digest}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(package.zip_bytes)
    return path


def _lambda_principal() -> iam.ServicePrincipal:
    """The trust policy's principal, read from provisioning's trust policy."""
    (statement,) = TRUST_POLICY["Statement"]
    return iam.ServicePrincipal(statement["Principal"]["Service"])


class Flagger(Construct):
    """Score stream -> function -> retrain table; exhausted batches -> the on-failure queue."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: InfraSettings,
        score_table: dynamodb.Table,
        retrain_table: dynamodb.Table,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.queue = sqs.Queue(
            self,
            "Failures",
            queue_name=settings.failure_queue_name,
            retention_period=Duration.seconds(int(QUEUE_RETENTION_S)),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{settings.function_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        stream_arn = score_table.table_stream_arn
        assert stream_arn is not None  # the score table is built with a stream
        statements = function_statements(
            log_group_arn=self.log_group.log_group_arn,
            stream_arn=stream_arn,
            retrain_table_arn=retrain_table.table_arn,
            queue_arn=self.queue.queue_arn,
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=settings.function_role_name,
            assumed_by=_lambda_principal(),
            description="Iris retrain flagger: read the score stream, write retrain candidates.",
            inline_policies={
                settings.function_policy_name: iam.PolicyDocument.from_json(
                    {"Version": "2012-10-17", "Statement": statements}
                )
            },
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=settings.function_name,
            description="Iris retrain flagger: copies problem score records to retraining.",
            runtime=lambda_.Runtime(settings.lambda_runtime, lambda_.RuntimeFamily.PYTHON),
            handler=settings.lambda_handler,
            code=lambda_.Code.from_asset(str(function_zip(settings))),
            role=self.role,
            timeout=Duration.seconds(settings.lambda_timeout_s),
            memory_size=settings.lambda_memory_mb,
            environment=function_variables(settings, self.queue.queue_url),
        )
        # Lambda would create the group itself on the first run; ours (with retention) first.
        self.function.node.add_dependency(self.log_group)
        knobs = mapping_settings(settings, self.queue.queue_arn)
        self.mapping = lambda_.CfnEventSourceMapping(
            self,
            "Mapping",
            function_name=self.function.function_name,
            event_source_arn=stream_arn,
            starting_position=settings.esm_starting_position,
            enabled=True,
            batch_size=knobs["BatchSize"],
            maximum_retry_attempts=knobs["MaximumRetryAttempts"],
            bisect_batch_on_function_error=knobs["BisectBatchOnFunctionError"],
            function_response_types=knobs["FunctionResponseTypes"],
            destination_config=lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(
                    destination=knobs["DestinationConfig"]["OnFailure"]["Destination"]
                )
            ),
        )
        # The mapping is checked against the role's stream permissions when it is created.
        self.mapping.node.add_dependency(self.role)
