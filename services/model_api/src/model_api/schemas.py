"""Request bodies of the JSON API, validated by pydantic (bad input → 422 in the error shape)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

MIN_UNITS, MAX_UNITS = 1, 512  # units per hidden layer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelCreate(_Strict):
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


class TrainRequest(_Strict):
    dataset_id: int = Field(ge=0)
    epochs: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1, le=4096)
    learning_rate: float | None = Field(default=None, gt=0, le=1)


class ScoreRequest(_Strict):
    features: dict[str, float] | None = None
    values: list[float] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScoreRequest:
        if (self.features is None) == (self.values is None):
            raise ValueError(
                "send exactly one of 'features' (name → number) or 'values' (20 numbers)"
            )
        return self


class BatchTestRequest(_Strict):
    dataset_id: int = Field(ge=0)
    version: int | None = Field(default=None, ge=1, description="default: the promoted version")
    flip_fraction: float = Field(default=0.0, ge=0, le=1)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
