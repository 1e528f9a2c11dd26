"""Settings for provisioning, DynamoDB Local, the local event source mapping and the launcher.

One typed place: every value can be set by environment variable (e.g. ``IRIS_SCORE_TABLE``);
AWS endpoint, region and credentials follow the standard AWS variables and credential chain.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
# services/infra/dynamodb-local holds the pinned npm manifest for DynamoDB Local.
DYNAMODB_LOCAL_MANIFEST_DIR = PACKAGE_DIR.parents[1] / "dynamodb-local"


class InfraSettings(BaseSettings):
    """Names and knobs shared by provisioning, the runner and the launcher."""

    model_config = SettingsConfigDict(env_prefix="IRIS_", extra="ignore")

    # --- AWS API (standard variable names, no prefix) ---
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_DEFAULT_REGION")

    # --- tables ---
    score_table: str = "IrisExtended"
    retrain_table: str = "IrisExtendedRetrain"

    # --- local runtime ---
    data_dir: Path = Path("./var")
    host: str = "127.0.0.1"
    aws_port: int = 4566
    api_port: int = 8000
    ui_port: int = 8050
    dynamodb_local_dir: Path = DYNAMODB_LOCAL_MANIFEST_DIR
