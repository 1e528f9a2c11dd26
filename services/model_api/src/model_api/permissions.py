"""The AWS calls model_api makes, as IAM actions: the one list its deployed task role is built from.

``infra.deploy`` turns this into the model_api task role's statements (one per resource, exactly
these actions), and ``tests/infra/deploy/test_permissions.py`` reads model_api's source and fails
when a DynamoDB or object store call is made that is not listed here. So a new call cannot ship
without its permission, and nothing is granted that no code calls. Importing this module loads
nothing else of model_api (no TensorFlow).
"""

from __future__ import annotations

SCORE_TABLE = "score_table"
RETRAIN_TABLE = "retrain_table"
REGISTRY_TABLE = "registry_table"
OBJECTS = "objects"  # the objects under IRIS_OBJECT_STORE's prefix
OBJECT_LISTING = "object_listing"  # the bucket, listed under that prefix only

# DynamoDB client method (botocore's snake_case name) -> {resource: IAM action}
DYNAMODB_CALLS: dict[str, dict[str, str]] = {
    # the score log writer (scorelog/batch.py); the shared outbox's chunks (core/registry.py)
    "batch_write_item": {
        SCORE_TABLE: "dynamodb:BatchWriteItem",
        REGISTRY_TABLE: "dynamodb:BatchWriteItem",
    },
    # run records, retrain candidates of a run, counts (scorelog/queries.py); registry listings
    "query": {
        SCORE_TABLE: "dynamodb:Query",
        RETRAIN_TABLE: "dynamodb:Query",
        REGISTRY_TABLE: "dynamodb:Query",
    },
    "scan": {RETRAIN_TABLE: "dynamodb:Scan"},  # all candidates, or a model's (filtered)
    # reviews (retrain/reviews.py); registry items
    "get_item": {RETRAIN_TABLE: "dynamodb:GetItem", REGISTRY_TABLE: "dynamodb:GetItem"},
    "update_item": {RETRAIN_TABLE: "dynamodb:UpdateItem", REGISTRY_TABLE: "dynamodb:UpdateItem"},
    "put_item": {REGISTRY_TABLE: "dynamodb:PutItem"},
    "delete_item": {REGISTRY_TABLE: "dynamodb:DeleteItem"},
    # readiness (core/health.py)
    "describe_table": {
        SCORE_TABLE: "dynamodb:DescribeTable",
        RETRAIN_TABLE: "dynamodb:DescribeTable",
        REGISTRY_TABLE: "dynamodb:DescribeTable",
    },
}

# Object store call (obstore's function name) -> (IAM action, resource). A multipart upload is
# authorised as s3:PutObject; a HEAD as s3:GetObject; a listing as s3:ListBucket on the bucket.
OBJECT_CALLS: dict[str, tuple[str, str]] = {
    "put": ("s3:PutObject", OBJECTS),
    "get": ("s3:GetObject", OBJECTS),
    "head": ("s3:GetObject", OBJECTS),
    "delete": ("s3:DeleteObject", OBJECTS),
    "list": ("s3:ListBucket", OBJECT_LISTING),
    "list_with_delimiter": ("s3:ListBucket", OBJECT_LISTING),
}


def actions_on(resource: str) -> list[str]:
    """The IAM actions model_api needs on ``resource``, sorted."""
    actions = {
        by_resource[resource] for by_resource in DYNAMODB_CALLS.values() if resource in by_resource
    }
    actions |= {action for action, target in OBJECT_CALLS.values() if target == resource}
    return sorted(actions)
