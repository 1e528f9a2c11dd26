"""Settings for provisioning, DynamoDB Local, the local event source mapping and the launcher.

One typed place: every value can be set by environment variable (e.g. ``IRIS_SCORE_TABLE``);
AWS endpoint, region and credentials follow the standard AWS variables and credential chain.
The stream-processing knobs (batch size, retries, bisect, threshold) and the function's name and
handler are in :class:`MappingSettings`, shared by the deployed event source mapping
(``infra.provision``, through :class:`InfraSettings`) and the local runner (``infra.esm``, through
its ``EsmSettings``), so both behave the same and the runner holds nothing else.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
# services/infra/dynamodb-local holds the pinned npm manifest for DynamoDB Local.
DYNAMODB_LOCAL_MANIFEST_DIR = PACKAGE_DIR.parents[1] / "dynamodb-local"


def package_dir(name: str) -> Path | None:
    """Where an installed package's folder lives (works editable and in a built image)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _flagger_source_dir() -> Path | None:
    return package_dir("flagger")


def connect_host(bind_host: str) -> str:
    """The address a local client dials for a server bound to ``bind_host``."""
    return "127.0.0.1" if bind_host in ("0.0.0.0", "::", "") else bind_host


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses no other machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MappingSettings(BaseSettings):
    """The event source mapping and its function: what the deployed mapping (provisioning) and
    the local runner (``infra.esm``) share, so both run with the same values."""

    model_config = SettingsConfigDict(env_prefix="IRIS_", extra="ignore", populate_by_name=True)

    # --- AWS API (standard variable names, no prefix) ---
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_DEFAULT_REGION")

    # --- tables ---
    score_table: str = "IrisExtended"
    retrain_table: str = "IrisExtendedRetrain"

    # --- stream processing (deployed mapping and local runner alike) ---
    flag_threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    esm_batch_size: int = Field(default=100, ge=1, le=10_000)
    esm_max_retries: int = Field(default=3, ge=0, le=10_000)
    esm_bisect_on_error: bool = True
    esm_starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"

    # --- the function ---
    function_name: str = "iris-retrain-flagger"
    lambda_handler: str = "flagger.handler.lambda_handler"
    lambda_source_dir: Path | None = Field(default_factory=_flagger_source_dir)

    # --- local runtime ---
    data_dir: Path = Path("./var")
    host: str = "127.0.0.1"


class InfraSettings(MappingSettings):
    """Names and knobs of provisioning and the launcher (and everything the mapping shares)."""

    # --- the Lambda deployment (AWS / LocalStack) ---
    # None: decide from the endpoint (on for AWS and LocalStack, off for DynamoDB Local).
    with_lambda: bool | None = None
    function_role_name: str = "iris-retrain-flagger-role"
    function_policy_name: str = "iris-retrain-flagger-policy"
    failure_queue_name: str = "iris-retrain-flagger-failures"
    lambda_runtime: str = "python3.12"
    lambda_timeout_s: int = Field(default=60, ge=1, le=900)
    lambda_memory_mb: int = Field(default=256, ge=128, le=10_240)
    provision_wait_s: float = Field(default=180.0, gt=0)

    # --- model_api's registry (metadata, leases, outbox): provisioned here, unused by the mapping
    registry_table: str = "IrisRegistry"

    # --- local runtime ---
    aws_port: int = Field(default=4566, ge=1, le=65535)
    api_port: int = Field(default=8000, ge=1, le=65535)
    ui_port: int = Field(default=8050, ge=1, le=65535)
    # model_api's bearer tokens (read here only to refuse an open non-loopback bind), and the
    # explicit opt-in to bind a non-loopback IRIS_HOST without one.
    api_token: str | None = Field(default=None, repr=False)
    allow_open_bind: bool = False
    dynamodb_local_dir: Path = DYNAMODB_LOCAL_MANIFEST_DIR
    launcher_ready_timeout_s: float = Field(default=180.0, gt=0)
    launcher_stop_grace_s: float = Field(default=10.0, gt=0)

    @property
    def local_endpoint_url(self) -> str:
        """The embedded stack's AWS endpoint (DynamoDB Local on ``aws_port``)."""
        return f"http://{connect_host(self.host)}:{self.aws_port}"
