"""The model_api task role's statements, built from ``model_api.permissions``.

One statement per resource with exactly the actions model_api's code calls on it (the list a
test checks against its source), each on exactly that resource: table ARNs (no index ARNs:
model_api queries no index), the objects under the store's prefix, and the bucket for listings.

The listing grant has no ``s3:prefix`` condition on purpose: S3 answers a GET or HEAD of a
missing key with 404 only to a caller allowed ``s3:ListBucket``, else 403, and model_api tells
"no such blob" from "refused" by that: its readiness probe HEADs the missing key ``.ready``
(``core/objects.py``), so with a 403 no task would ever pass the load balancer's health check. A
prefix condition would not hold in that check, so every miss would look like a refusal. The
bucket is this stack's, used by model_api alone: listing it reveals nothing else.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from model_api import permissions as api

from infra.deploy.data import DataStores


def model_api_statements(data: DataStores, prefix: str) -> list[iam.PolicyStatement]:
    """Exactly what model_api calls, per resource (``prefix``: IRIS_OBJECT_STORE's key prefix)."""
    tables = (
        ("ScoreTable", api.SCORE_TABLE, data.score_table),
        ("RetrainTable", api.RETRAIN_TABLE, data.retrain_table),
        ("RegistryTable", api.REGISTRY_TABLE, data.registry_table),
    )
    statements = [
        iam.PolicyStatement(sid=sid, actions=api.actions_on(key), resources=[table.table_arn])
        for sid, key, table in tables
        if api.actions_on(key)
    ]
    statements.append(
        iam.PolicyStatement(
            sid="Objects",
            actions=api.actions_on(api.OBJECTS),
            resources=[data.bucket.arn_for_objects(f"{prefix}/*")],
        )
    )
    statements.append(
        iam.PolicyStatement(
            sid="ListObjects",
            actions=api.actions_on(api.OBJECT_LISTING),
            resources=[data.bucket.bucket_arn],
        )
    )
    return statements
