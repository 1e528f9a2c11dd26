"""Settings of the local event source mapping (env prefix ``IRIS_``), with AWS's semantics.

The mapping's knobs shared with the deployed (AWS/LocalStack) mapping live in
:class:`infra.config.MappingSettings` — ``flag_threshold``, ``esm_batch_size``, ``esm_max_retries``,
``esm_bisect_on_error``, ``esm_starting_position``, the function's name and handler — so both run
with the same values; this class adds only what a poller needs, and nothing of provisioning's or
the launcher's. AWS's ``MaximumBatchingWindowInSeconds`` default for DynamoDB
streams is 0 (invoke as soon as GetRecords returns records), which is what the runner does.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from infra.config import MappingSettings

# GetRecords returns at most 1,000 records, so one invocation carries at most that many.
MAX_RECORDS_PER_GET = 1000


class EsmSettings(MappingSettings):
    """Everything ``python -m infra.esm`` reads from the environment."""

    # Wait after an empty GetRecords: esm_busy_poll_interval right after records came (more
    # are likely on their way), doubling up to esm_poll_interval while the shard stays idle.
    # AWS's mapping reads each shard about 4 times a second.
    esm_poll_interval: float = Field(default=0.2, gt=0.0, le=60.0)
    esm_busy_poll_interval: float = Field(default=0.05, gt=0.0, le=60.0)
    esm_discovery_interval: float = Field(default=1.0, gt=0.0, le=300.0)
    esm_retry_backoff: float = Field(default=0.5, ge=0.0, le=60.0)
    esm_metrics_interval: float = Field(default=10.0, gt=0.0)
    # Prometheus /metrics of the runner on IRIS_HOST:<port>; unset = not served.
    esm_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # run_until_idle: how long the drained stream must also stay quiet before it counts as idle.
    # DynamoDB Local makes a write readable at once; LocalStack's stream backend (kinesis-mock)
    # was measured here delivering records up to ~20 s after the write on a loaded machine.
    esm_idle_quiet_s: float = Field(default=0.0, ge=0.0, le=600.0)
    # Invoke the deployment zip under Lambda's Python with boto3 only (infra.esm.packaged).
    esm_packaged: bool = False

    @property
    def esm_dir(self) -> Path:
        """Where the checkpoint and the on-failure destination live."""
        return self.data_dir / "esm"

    @property
    def checkpoint_path(self) -> Path:
        return self.esm_dir / "checkpoints.json"

    @property
    def failures_path(self) -> Path:
        return self.esm_dir / "failures.jsonl"
