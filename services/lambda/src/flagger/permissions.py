"""The AWS calls the function's code makes, as IAM actions: the one list its role is built from.

Kept next to the calls (``retrain.py`` writes, ``failures.py`` sends) so a new call cannot be
added without its permission; ``infra.provision.iam.function_policy`` imports it, and a test runs
the handler against recording clients and checks every call made is in this list.
"""

from __future__ import annotations

RETRAIN_TABLE = "retrain_table"
FAILURE_QUEUE = "failure_queue"

# client method -> (IAM action, the resource it acts on)
FUNCTION_CALLS: dict[str, tuple[str, str]] = {
    # new candidates, up to 100 a call, put only where no item exists; IAM authorises a
    # transaction's Put as PutItem (there is no TransactWriteItems action)
    "transact_write_items": ("dynamodb:PutItem", RETRAIN_TABLE),
    # existing candidates (redelivery, MODIFY): SET of what the flagger owns, never the review
    "update_item": ("dynamodb:UpdateItem", RETRAIN_TABLE),
    "send_message": ("sqs:SendMessage", FAILURE_QUEUE),  # unreadable records with no key
}


def actions_on(resource: str) -> list[str]:
    """The IAM actions the function's code needs on ``resource``, sorted."""
    return sorted({action for action, target in FUNCTION_CALLS.values() if target == resource})
