"""Settings of the model service: one typed place, environment-driven (prefix ``IRIS_``).

AWS endpoint and region follow the standard AWS variables so that the same code talks to AWS,
LocalStack or DynamoDB Local depending only on configuration; credentials use the standard chain.
"""

from __future__ import annotations

import os
import socket
import uuid
from functools import lru_cache
from pathlib import Path

from iris_common.webguard import GuardSettingsMixin
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _replica_id() -> str:
    """This process's name among the replicas: host, pid and a random part (a restarted
    process is a new replica; its old leases expire)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class ApiSettings(GuardSettingsMixin, BaseSettings):
    """Everything model_api reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="IRIS_", extra="ignore")

    # --- AWS API (standard variable names, no prefix) ---
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_DEFAULT_REGION")

    # --- tables ---
    score_table: str = "IrisExtended"
    retrain_table: str = "IrisExtendedRetrain"
    # shared state of every replica: metadata, id counters, leases, the outbox (core/registry.py)
    registry_table: str = "IrisRegistry"

    # --- service ---
    data_dir: Path = Path("./var")
    # where blobs live (data set files, model weights): file:///path or s3://bucket/prefix;
    # unset = a folder under the data directory (model_api/core/objects.py)
    object_store: str | None = None
    host: str = "127.0.0.1"
    api_port: int = 8000

    # --- replicas (core/lease.py): who holds a run's outbox or a training job, and how long a
    # lease lasts unrenewed (heartbeats every third of it); a dead replica's work is taken over
    # by another once its lease has expired.
    replica_id: str = Field(default_factory=_replica_id, min_length=1, max_length=200)
    lease_seconds: float = Field(default=30.0, gt=0, le=3600)

    # --- scoring: a single score reuses the model record and its promotion this long (this
    # replica's own promotions and deletes apply at once, another replica's this late); 0 = read
    # the registry on every score
    scoring_cache_seconds: float = Field(default=2.0, ge=0, le=60)

    # --- score log writer ---
    scorelog_enabled: bool = True
    scorelog_concurrency: int = Field(default=8, ge=1, le=32)
    scorelog_drain_seconds: float = Field(default=10.0, ge=0)
    # a run's flagged count is cached once unchanged this long after its records are written
    flagged_settle_seconds: float = Field(default=30.0, ge=0)
    # records accepted but not yet in DynamoDB (~1 KB each on disk); over it a test gets a 429
    scorelog_max_pending: int = Field(default=200_000, ge=1)

    # --- limits (bad input gets a clear 4xx instead of exhausting the 2-core machine) ---
    max_upload_bytes: int = 20 * 1024 * 1024
    max_epochs: int = 500
    # training jobs waiting behind the one that runs; over it a create or retrain gets a 429
    max_queued_training_jobs: int = Field(default=16, ge=1)

    # --- guards (model_api/core/security.py; README "Configuration") ---
    # Comma-separated bearer tokens; unset = no authentication (refused off loopback by the
    # launcher unless IRIS_ALLOW_OPEN_BIND=1).
    api_token: str | None = Field(default=None, repr=False)
    # Host header names accepted (DNS rebinding guard); "*" accepts any. The bind host is added.
    allowed_hosts: str = "127.0.0.1,localhost,::1"
    # Browser origins allowed to call the API (CORS and the cross-site guard); empty = none.
    cors_origins: str = ""
    max_request_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)

    @property
    def heartbeat_seconds(self) -> float:
        """How often a lease holder renews: three tries before the lease expires."""
        return self.lease_seconds / 3

    @property
    def store_dir(self) -> Path:
        """model_api's local folder (the default object store lives under it)."""
        return self.data_dir / "model_api"

    @property
    def object_store_url(self) -> str:
        """``IRIS_OBJECT_STORE``, else ``file://`` of ``<store_dir>/objects``."""
        return self.object_store or (self.store_dir / "objects").resolve().as_uri()


@lru_cache
def get_settings() -> ApiSettings:
    """Settings read once from the environment (tests build their own ``ApiSettings``)."""
    return ApiSettings()
