"""Request bodies of the versions API (bad input → 422 in the one error shape)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VersionCreate(_Strict):
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


class CompareRequest(_Strict):
    versions: list[int] = Field(min_length=2, max_length=2)
    dataset_id: int = Field(ge=0)
    exclude_trained: bool = Field(
        default=False, description="leave out rows either version trained on instead of a 409"
    )


class PromoteRequest(_Strict):
    version: int = Field(ge=1)
    force: bool = False
    reviewer: str = Field(default="anonymous", min_length=1, max_length=100)


class Retest(_Strict):
    """Re-test a run on its exact rows, with a chosen or the promoted version."""

    version: int | None = Field(default=None, ge=1, description="default: the promoted version")
