"""Types of model_api's answers, as the dashboard reads them (docs/contract.md).

``TypedDict``s, not classes: the JSON stays the plain dicts the pages pass to Dash (stores, grid
rows), and the type checker still knows every field. Field names follow model_api's response
schemas (``model_api/*/schemas.py``), checked against its OpenAPI document by
``tests/ui/test_ui_api_types.py``; the API may add fields, so none is relied on beyond these.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

Json = dict[str, Any]


class Readiness(TypedDict):
    """``GET /health/ready`` (200 ready, 503 degraded: ``checks`` says which part failed)."""

    status: str
    checks: NotRequired[dict[str, Any]]


class InputFeature(TypedDict):
    name: str
    label: str
    integer: bool


class DerivedFeature(TypedDict):
    name: str
    formula: str


class Schema(TypedDict):
    """``GET /api/schema``: the input contract (features, formulas, classes, limits, states)."""

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


class Derived(TypedDict):
    """``POST /api/schema/derive``: the 20 features by name and in CSV order."""

    features: dict[str, float]
    values: list[float]


class Dataset(TypedDict):
    id: int
    name: str
    created_at: str
    rows: int
    columns: list[str]
    feature_names: list[str]
    class_counts: dict[str, int]
    stats: dict[str, Any]


class RowsPage(TypedDict):
    """``GET /api/datasets/{id}/rows``: one page of a data set's rows."""

    total: int
    offset: int
    limit: int
    rows: list[Json]


class Model(TypedDict):
    id: int
    name: str
    status: str  # one of the schema's model_statuses
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


class Score(TypedDict):
    """``POST /api/models/{id}/score``."""

    model_id: int
    class_name: str
    class_index: int
    probabilities: dict[str, float]
    classes: list[str]


class Logging(TypedDict):
    """How far a run's records are written to the score table (what the flagger reads)."""

    total: int
    written: int
    pending: int
    failed: int
    state: str  # one of the schema's logging_states


class Run(TypedDict):
    """A batch test's summary (``GET /api/runs/{id}``, items of ``GET /api/runs``)."""

    run_id: str
    model_id: int
    dataset_id: int
    created_at: str
    rows: int
    accuracy: float
    flip_fraction: NotRequired[float | None]
    seed: NotRequired[int | None]
    labels: list[str]
    confusion_matrix: list[list[int]]
    per_class: dict[str, dict[str, Any]]
    logging: Logging
    flagged: NotRequired[int | None]
    flagged_share: NotRequired[float | None]


class TestRun(Run):
    """``POST /api/models/{id}/tests``: the summary plus every row's outcome."""

    __test__ = False  # not a pytest class

    actual: list[str]
    predicted: list[str]
    probability: list[float]
    flipped: list[int]


class RunList(TypedDict):
    items: list[Run]
    total: int


class ItemPage(TypedDict):
    """A cursor-paged list (score records, retrain candidates): follow ``next_cursor``."""

    items: list[Json]
    next_cursor: str | None
    triage: NotRequired[Any]


class Version(TypedDict):
    model_id: int
    version: int
    created_at: str
    source: str
    parent_version: int | None
    base_dataset_id: int | None
    candidates: list[Json]
    params: dict[str, Any]
    classes: list[str]
    metrics: dict[str, Any]
    promoted: bool


class VersionList(TypedDict):
    """``GET /api/models/{id}/versions``."""

    model_id: int
    promoted_version: int | None
    promotions: list[Json]
    versions: list[Version]


class Promotion(VersionList):
    """``POST /api/models/{id}/promote``: the version list after it, and whether it changed."""

    changed: bool


class Job(TypedDict):
    """A server-side job (a retraining): ``GET /api/jobs/{id}``."""

    job_id: str
    kind: str
    model_id: int
    status: str  # queued, running, succeeded, failed
    progress: dict[str, Any]
    attempts: int
    result: Json | None
    error: str | None
    events: list[Json]
    created_at: str
    updated_at: str
    request: Json | None


class Comparison(TypedDict):
    """``POST /api/models/{id}/compare``: two versions on one data set."""

    comparison_id: str
    model_id: int
    versions: list[int]
    dataset_id: int
    labels: list[str]
    rows: int
    excluded_rows: int
    note: str | None
    results: dict[str, Json]
    accuracy_delta: float
    changed_predictions: int
    flagged: Json


class Reviewed(TypedDict):
    """``POST /api/retrain/reviews``."""

    count: int
    reviewed: list[Json]
