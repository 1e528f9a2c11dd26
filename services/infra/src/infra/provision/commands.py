"""``up``, ``down`` and ``status``: every resource in order, for every endpoint.

``provision_up`` creates what the course clicked through by hand — the score table (stream
NEW_IMAGE), the retrain table — plus model_api's registry table and, where the endpoint has
Lambda, the on-failure queue, a least-privilege role, the retrain flagger function and its event
source mapping. Every step reads the current state first and only changes what differs, so
running it twice changes nothing; ``provision_down`` removes exactly those resources.
"""

from __future__ import annotations

from typing import Any

from infra.aws import AwsClients, endpoint_supports_lambda, make_clients
from infra.config import InfraSettings
from infra.provision.function import delete_function, ensure_function, get_function
from infra.provision.iam import (
    delete_function_role,
    ensure_function_role,
    function_policy,
    get_role,
)
from infra.provision.mapping import (
    delete_event_source_mappings,
    delete_log_group,
    ensure_event_source_mapping,
    function_mappings,
)
from infra.provision.queue import delete_failure_queue, ensure_failure_queue, queue_url
from infra.provision.report import ProvisionReport
from infra.provision.tables import delete_table, describe_table, ensure_tables


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
    failure_queue_url = queue_url(clients("sqs"), settings.failure_queue_name)
    report.changes.append(ensure_function(settings, clients, role_arn, failure_queue_url))
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
        for name in (settings.score_table, settings.retrain_table, settings.registry_table):
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
        ("registry_table", settings.registry_table),
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
    status["queue"] = queue_url(sqs, settings.failure_queue_name)
    status["role"] = (get_role(clients("iam"), settings.function_role_name) or {}).get("Arn")
    lam = clients("lambda")
    conf = get_function(lam, settings.function_name)
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
            for m in function_mappings(lam, settings.function_name)
        ]
    )
    return status
