"""The one mapping from the stack's settings to the environment variables of its children.

Every child (DynamoDB Local, the stream runner, model_api, the dashboard) reads its settings from
variables, so the launcher passes its own resolved settings down this way; ``iris-stack aws-env``
prints the AWS part of the same mapping for your own boto3/aws-cli.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from infra.aws import local_credential_env
from infra.config import InfraSettings, connect_host

# Variables that could send real credentials or another endpoint to the local stack.
_SCRUBBED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def aws_variables(settings: InfraSettings) -> dict[str, str]:
    """The local endpoint with the placeholder credentials, and the tables' names."""
    return {
        "AWS_ENDPOINT_URL": settings.local_endpoint_url,
        **local_credential_env(),
        "AWS_DEFAULT_REGION": settings.aws_region,
        "AWS_REGION": settings.aws_region,
        "IRIS_SCORE_TABLE": settings.score_table,
        "IRIS_RETRAIN_TABLE": settings.retrain_table,
        "IRIS_REGISTRY_TABLE": settings.registry_table,
    }


def settings_variables(settings: InfraSettings, data_dir: Path) -> dict[str, str]:
    """The stack's own settings as the ``IRIS_*`` variables the children read."""
    return {
        "IRIS_DATA_DIR": str(data_dir),
        "IRIS_HOST": settings.host,
        "IRIS_AWS_PORT": str(settings.aws_port),
        "IRIS_API_PORT": str(settings.api_port),
        "IRIS_UI_PORT": str(settings.ui_port),
        "IRIS_API_URL": f"http://{connect_host(settings.host)}:{settings.api_port}",
        "IRIS_FLAG_THRESHOLD": str(settings.flag_threshold),
        "IRIS_ESM_BATCH_SIZE": str(settings.esm_batch_size),
        "IRIS_ESM_MAX_RETRIES": str(settings.esm_max_retries),
        "IRIS_ESM_BISECT_ON_ERROR": str(settings.esm_bisect_on_error).lower(),
        "IRIS_ESM_STARTING_POSITION": settings.esm_starting_position,
    }


def child_env(settings: InfraSettings, data_dir: Path) -> dict[str, str]:
    """The children's environment: this one, pointed at the local endpoint with dummy keys."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _SCRUBBED_ENV and not k.startswith("AWS_ENDPOINT_URL_")
    }
    no_proxy = ",".join(
        x for x in (env.get("NO_PROXY") or env.get("no_proxy"), "127.0.0.1,localhost") if x
    )
    env.update(aws_variables(settings))
    env.update(settings_variables(settings, data_dir))
    env.update({"PYTHONUNBUFFERED": "1", "NO_PROXY": no_proxy, "no_proxy": no_proxy})
    return env


def aws_env_lines(settings: InfraSettings) -> list[str]:
    """Shell lines that point boto3/aws-cli at the embedded stack's endpoint."""
    return [f"export {k}={shlex.quote(v)}" for k, v in aws_variables(settings).items()]
