"""Response models of the JSON API: the contract clients (the dashboard, scripts) are built and
tested against, published in OpenAPI.

Models allow extra fields, so a field added by one module is passed through (and should be
added here); they never drop what a handler returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from model_api.schema.document import LOGGING_STATES, MODEL_STATUSES


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Live(_Open):
    status: str


class Ready(_Open):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


class Dataset(_Open):
    id: int
    name: str
    created_at: str
    rows: int
    columns: list[str]
    feature_names: list[str]
    class_counts: dict[str, int]
    stats: dict[str, Any]


class RowsPage(_Open):
    total: int
    offset: int
    limit: int
    rows: list[dict[str, Any]]


class Model(_Open):
    id: int
    name: str
    status: Literal[MODEL_STATUSES]  # type: ignore[valid-type]
    dataset_id: int
    classes: list[str]
    feature_names: list[str]
    params: dict[str, Any]
    progress: dict[str, Any]
    history: dict[str, list[Any]]
    metrics: dict[str, Any]
    error: str | None
    version: int
    created_at: str
    updated_at: str


class Score(_Open):
    model_id: int
    class_name: str
    class_index: int
    probabilities: dict[str, float]
    classes: list[str]


class Logging(_Open):
    total: int
    written: int
    pending: int
    failed: int
    state: Literal[LOGGING_STATES]  # type: ignore[valid-type]


class RunSummary(_Open):
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


class RunList(_Open):
    items: list[RunSummary]
    total: int


class DerivedFeature(_Open):
    name: str
    formula: str


class InputFeature(_Open):
    name: str
    label: str
    integer: bool


class Schema(_Open):
    label: str
    feature_order: list[str]
    independent: list[InputFeature]
    derived: list[DerivedFeature]
    class_names: list[str]
    soil_types: dict[str, str]
    model_statuses: list[str]
    logging_states: list[str]
    logging_final_states: list[str]
    limits: dict[str, dict[str, Any]]


class Derived(_Open):
    features: dict[str, float]
    values: list[float]


class RetrainPage(_Open):
    """``GET /api/retrain``: candidates with triage; follow ``next_cursor`` until null."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    triage: Any = None


class Reviewed(_Open):
    count: int
    reviewed: list[dict[str, Any]]


class Version(_Open):
    """One trained version of a model with its lineage (retrain versions add the job, the
    candidate counts and the training history)."""

    model_id: int
    version: int
    created_at: str
    source: str
    parent_version: int | None
    base_dataset_id: int | None
    candidates: list[dict[str, Any]]
    params: dict[str, Any]
    classes: list[str]
    metrics: dict[str, Any]
    promoted: bool


class VersionList(_Open):
    model_id: int
    promoted_version: int | None
    promotions: list[dict[str, Any]]
    versions: list[Version]


class Promotion(VersionList):
    changed: bool


class Comparison(_Open):
    """Two versions on the same rows, none of which either trained on."""

    comparison_id: str
    model_id: int
    versions: list[int]
    dataset_id: int
    labels: list[str]
    rows: int
    excluded_rows: int
    note: str | None
    results: dict[str, dict[str, Any]]
    accuracy_delta: float
    changed_predictions: int
    flagged: dict[str, Any]


class Job(_Open):
    """A background job (a retraining); poll it until ``status`` is final."""

    job_id: str
    kind: str
    model_id: int
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: dict[str, Any]
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    events: list[dict[str, Any]]
    created_at: str
    updated_at: str
    request: dict[str, Any] | None
