"""Request bodies (bad input → 422 in the one error shape) and responses of the models and
versions API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from model_api.core.schemas import Open, Strict

MIN_UNITS, MAX_UNITS = 1, 512  # units per hidden layer
MODEL_STATUSES = ("queued", "training", "ready", "failed")


class ModelCreate(Strict):
    dataset_id: int = Field(ge=0)
    hidden_layers: list[int] = Field(default_factory=lambda: [10, 10], min_length=1, max_length=6)
    epochs: int = Field(default=30, ge=1)
    batch_size: int = Field(default=32, ge=1, le=4096)
    learning_rate: float = Field(default=0.01, gt=0, le=1)
    validation_split: float = Field(default=0.2, ge=0, le=0.5)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _layer_sizes(self) -> ModelCreate:
        if any(not MIN_UNITS <= n <= MAX_UNITS for n in self.hidden_layers):
            raise ValueError(f"each hidden layer needs between {MIN_UNITS} and {MAX_UNITS} units")
        return self


class TrainRequest(Strict):
    dataset_id: int = Field(ge=0)
    epochs: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1, le=4096)
    learning_rate: float | None = Field(default=None, gt=0, le=1)


class ScoreRequest(Strict):
    features: dict[str, float] | None = None
    values: list[float] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScoreRequest:
        if (self.features is None) == (self.values is None):
            raise ValueError(
                "send exactly one of 'features' (name → number) or 'values' (20 numbers)"
            )
        return self


class VersionCreate(Strict):
    """A retraining from reviewed candidates; hyper-parameters default to the parent's."""

    run_ids: list[str] = Field(min_length=1, max_length=50)
    base_dataset_id: int | None = Field(default=None, ge=0)
    parent_version: int | None = Field(default=None, ge=1)
    weight: int = Field(default=1, ge=1, le=20, description="how often each candidate is repeated")
    hidden_layers: list[int] | None = Field(default=None, min_length=1, max_length=6)
    epochs: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1, le=4096)
    learning_rate: float | None = Field(default=None, gt=0, le=1)
    validation_split: float | None = Field(default=None, ge=0, le=0.5)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    reviewer: str = Field(default="anonymous", min_length=1, max_length=100)

    @model_validator(mode="after")
    def _layer_sizes(self) -> VersionCreate:
        if self.hidden_layers and any(not 1 <= n <= 512 for n in self.hidden_layers):
            raise ValueError("each hidden layer needs between 1 and 512 units")
        if any(not 1 <= len(r) <= 256 for r in self.run_ids):
            raise ValueError("run ids are 1 to 256 characters")
        return self


class CompareRequest(Strict):
    versions: list[int] = Field(min_length=2, max_length=2)
    dataset_id: int = Field(ge=0)
    exclude_trained: bool = Field(
        default=False, description="leave out rows either version trained on instead of a 409"
    )


class PromoteRequest(Strict):
    version: int = Field(ge=1)
    force: bool = False
    reviewer: str = Field(default="anonymous", min_length=1, max_length=100)


class Model(Open):
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


class Score(Open):
    model_id: int
    class_name: str
    class_index: int
    probabilities: dict[str, float]
    classes: list[str]


class Version(Open):
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


class VersionList(Open):
    model_id: int
    promoted_version: int | None
    promotions: list[dict[str, Any]]
    versions: list[Version]


class Promotion(VersionList):
    changed: bool


class Comparison(Open):
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


class Job(Open):
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
    replica: str | None = None  # the replica that last started it (none before the first start)
