"""The data the deployment keeps: the score, retrain and registry tables, and the object bucket.

Keys, billing and the score table's stream come from ``infra.provision.tables``, so a deployed
table is the table ``iris-provision up`` creates. Tables and bucket are retained when the stack
is deleted (CloudFormation's default for data): a ``cdk destroy`` never drops recorded scores.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import InfraSettings
from infra.provision.tables import (
    ATTRIBUTES,
    KEY_SCHEMA,
    REGISTRY_ATTRIBUTES,
    REGISTRY_KEY_SCHEMA,
    STREAM_VIEW,
)

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _keys(
    key_schema: list[dict[str, str]], attributes: list[dict[str, str]]
) -> dict[str, dynamodb.Attribute]:
    """Provisioning's key schema as CDK's ``partition_key``/``sort_key`` arguments."""
    types = {a["AttributeName"]: _TYPES[a["AttributeType"]] for a in attributes}
    role = {"HASH": "partition_key", "RANGE": "sort_key"}
    return {
        role[k["KeyType"]]: dynamodb.Attribute(
            name=k["AttributeName"], type=types[k["AttributeName"]]
        )
        for k in key_schema
    }


class DataStores(Construct):
    """The three tables (on-demand, point-in-time recovery) and the private object bucket."""

    def __init__(self, scope: Construct, id: str, *, settings: InfraSettings) -> None:
        super().__init__(scope, id)
        common: dict[str, Any] = {
            "billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST,
            "removal_policy": RemovalPolicy.RETAIN,
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        }
        self.score_table = dynamodb.Table(
            self,
            "ScoreTable",
            table_name=settings.score_table,
            stream=dynamodb.StreamViewType[STREAM_VIEW],
            **_keys(KEY_SCHEMA, ATTRIBUTES),
            **common,
        )
        self.retrain_table = dynamodb.Table(
            self,
            "RetrainTable",
            table_name=settings.retrain_table,
            **_keys(KEY_SCHEMA, ATTRIBUTES),
            **common,
        )
        self.registry_table = dynamodb.Table(
            self,
            "RegistryTable",
            table_name=settings.registry_table,
            **_keys(REGISTRY_KEY_SCHEMA, REGISTRY_ATTRIBUTES),
            **common,
        )
        self.bucket = s3.Bucket(
            self,
            "Objects",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
        )
