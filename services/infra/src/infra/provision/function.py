"""The flagger function: created, or its code/configuration updated when they differ.

The code is the deterministic zip of :mod:`infra.provision.package`, so an unchanged source means
an unchanged ``CodeSha256`` and no upload.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.aws import AwsClients, error_code
from infra.config import InfraSettings, MappingSettings
from infra.provision.iam import retry_iam_propagation
from infra.provision.package import build_function_zip
from infra.provision.report import Change, ProvisioningError, poll


def function_variables(settings: MappingSettings, queue_url: str | None = None) -> dict[str, str]:
    """The function's environment (what ``flagger.config`` reads), wherever it runs: deployed, or
    invoked by the local runner (in its process or packaged, :mod:`infra.esm.handlers`)."""
    variables = {
        "RETRAIN_TABLE": settings.retrain_table,
        "CONFIDENCE_THRESHOLD": str(settings.flag_threshold),
    }
    if queue_url:
        variables["FAILURE_QUEUE_URL"] = queue_url
    return variables


def get_function(lam: Any, name: str) -> dict[str, Any] | None:
    try:
        return lam.get_function_configuration(FunctionName=name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _wait_function_ready(lam: Any, name: str, timeout: float) -> dict[str, Any]:
    def ready(conf: dict[str, Any] | None) -> bool:
        if conf is None:
            return False
        if conf.get("State") == "Failed" or conf.get("LastUpdateStatus") == "Failed":
            reason = conf.get("StateReason") or conf.get("LastUpdateStatusReason")
            raise ProvisioningError(f"function {name} failed: {reason}")
        return conf.get("State", "Active") == "Active" and conf.get(
            "LastUpdateStatus", "Successful"
        ) in ("Successful", None)

    return poll(lambda: get_function(lam, name), ready, timeout, f"function {name} Active")  # type: ignore[return-value]


def ensure_function(
    settings: InfraSettings, clients: AwsClients, role_arn: str, queue_url: str | None = None
) -> Change:
    """The flagger function: created, or its code/configuration updated when they differ.

    ``queue_url`` (the on-failure queue) is where the function sends unreadable records that
    have no key to copy them under."""
    if settings.lambda_source_dir is None:
        raise ProvisioningError(
            "the flagger package is not installed; set IRIS_LAMBDA_SOURCE_DIR to "
            "services/lambda/src/flagger"
        )
    package = build_function_zip(settings.lambda_source_dir, settings.lambda_handler)
    lam = clients("lambda")
    name = settings.function_name
    wanted: dict[str, Any] = {
        "Runtime": settings.lambda_runtime,
        "Handler": settings.lambda_handler,
        "Role": role_arn,
        "Timeout": settings.lambda_timeout_s,
        "MemorySize": settings.lambda_memory_mb,
        "Environment": {"Variables": function_variables(settings, queue_url)},
    }
    wait = settings.provision_wait_s
    conf = get_function(lam, name)
    if conf is None:
        retry_iam_propagation(
            lambda: lam.create_function(
                FunctionName=name,
                Code={"ZipFile": package.zip_bytes},
                Description="Iris retrain flagger: copies problem score records to retraining.",
                Publish=False,
                **wanted,
            ),
            wait,
        )
        _wait_function_ready(lam, name, wait)
        return Change("created", "function", name, f"code {package.code_sha256}")
    conf = _wait_function_ready(lam, name, wait)
    details = []
    current = {key: conf.get(key) for key in wanted}
    current["Environment"] = {"Variables": (conf.get("Environment") or {}).get("Variables", {})}
    if current != wanted:
        differing = sorted(k for k in wanted if current.get(k) != wanted[k])
        retry_iam_propagation(
            lambda: lam.update_function_configuration(FunctionName=name, **wanted), wait
        )
        _wait_function_ready(lam, name, wait)
        details.append("configuration: " + ", ".join(differing))
    if conf.get("CodeSha256") != package.code_sha256:
        lam.update_function_code(FunctionName=name, ZipFile=package.zip_bytes)
        _wait_function_ready(lam, name, wait)
        details.append(f"code {package.code_sha256}")
    if details:
        return Change("updated", "function", name, "; ".join(details))
    return Change("unchanged", "function", name)


def delete_function(settings: InfraSettings, clients: AwsClients) -> Change:
    lam = clients("lambda")
    if get_function(lam, settings.function_name) is None:
        return Change("absent", "function", settings.function_name)
    lam.delete_function(FunctionName=settings.function_name)
    return Change("deleted", "function", settings.function_name)
