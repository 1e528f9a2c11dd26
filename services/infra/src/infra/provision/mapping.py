"""The event source mapping: the score stream → the function, with the settings' knobs.

Stale mappings (an earlier stream of the same table) and duplicates (two concurrent ``up`` runs)
are removed; the function's log group goes with the function on ``down``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.aws import AwsClients, error_code
from infra.config import InfraSettings
from infra.provision.function import get_function
from infra.provision.iam import retry_iam_propagation
from infra.provision.report import Change, ProvisioningError, poll


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


def function_mappings(lam: Any, function_name: str) -> list[dict[str, Any]]:
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
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


_TRANSITIONAL = {"Creating", "Enabling", "Updating", "Disabling"}


def _wait_mapping_enabled(lam: Any, uuid: str, timeout: float) -> dict[str, Any]:
    def ready(mapping: dict[str, Any] | None) -> bool:
        if mapping is None:
            raise ProvisioningError(f"event source mapping {uuid} disappeared")
        return mapping.get("State") == "Enabled"

    return poll(lambda: _get_mapping(lam, uuid), ready, timeout, f"mapping {uuid} Enabled")  # type: ignore[return-value]


def _wait_mapping_settled(lam: Any, uuid: str, timeout: float) -> dict[str, Any] | None:
    return poll(
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
        if error_code(exc) != "ResourceNotFoundException":
            raise
    poll(lambda: _get_mapping(lam, uuid), lambda m: m is None, timeout, f"{uuid} deleted")


def ensure_event_source_mapping(
    settings: InfraSettings, clients: AwsClients, stream_arn: str, queue_arn: str
) -> list[Change]:
    """One mapping from the score stream to the function, with the settings' knobs."""
    lam = clients("lambda")
    fn = settings.function_name
    wanted = mapping_settings(settings, queue_arn)
    wait = settings.provision_wait_s
    changes: list[Change] = []
    ours = [m for m in function_mappings(lam, fn) if m.get("EventSourceArn") == stream_arn]
    stale_prefix = stream_arn.split("/stream/")[0] + "/stream/"
    for mapping in function_mappings(lam, fn):
        arn = mapping.get("EventSourceArn", "")
        if arn != stream_arn and arn.startswith(stale_prefix):  # an earlier stream of the table
            _delete_mapping(lam, mapping["UUID"], wait)
            changes.append(Change("deleted", "mapping", mapping["UUID"], f"stale {arn}"))
    for extra in ours[1:]:  # a concurrent second `up`: keep one
        _delete_mapping(lam, extra["UUID"], wait)
        changes.append(Change("deleted", "mapping", extra["UUID"], "duplicate"))
    if not ours:
        created = retry_iam_propagation(
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
        retry_iam_propagation(
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
    if get_function(lam, settings.function_name) is None:
        return [Change("absent", "mapping", settings.function_name)]
    mappings = function_mappings(lam, settings.function_name)
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
        if error_code(exc) == "ResourceNotFoundException":
            return Change("absent", "logs", name)
        raise
