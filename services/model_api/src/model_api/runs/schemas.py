"""Request bodies (bad input → 422 in the one error shape) and responses of the runs API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from model_api.core.schemas import Open, Strict

LOGGING_STATES = ("queued", "writing", "waiting", "complete", "failed", "unknown", "disabled")
LOGGING_FINAL_STATES = ("complete", "failed", "disabled")  # nothing more will be written


class BatchTestRequest(Strict):
    dataset_id: int = Field(ge=0)
    version: int | None = Field(default=None, ge=1, description="default: the promoted version")
    flip_fraction: float = Field(default=0.0, ge=0, le=1)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class Retest(Strict):
    """Re-test a run on its exact rows, with a chosen or the promoted version."""

    version: int | None = Field(default=None, ge=1, description="default: the promoted version")


class Logging(Open):
    total: int
    written: int
    pending: int
    failed: int
    state: Literal[LOGGING_STATES]  # type: ignore[valid-type]


class RunSummary(Open):
    run_id: str
    model_id: int
    dataset_id: int
    created_at: str
    rows: int
    accuracy: float
    flip_fraction: float | None = None
    seed: int | None = None  # None only for runs stored before seeds were kept
    labels: list[str]
    confusion_matrix: list[list[int]]
    per_class: dict[str, dict[str, Any]]
    logging: Logging
    flagged: int | None = None
    flagged_share: float | None = None


class TestRun(RunSummary):
    __test__ = False  # not a pytest class

    actual: list[str]
    predicted: list[str]
    probability: list[float]
    flipped: list[int]


class RunList(Open):
    items: list[RunSummary]
    total: int
