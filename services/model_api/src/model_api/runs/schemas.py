"""Request bodies of the runs API (bad input → 422 in the one error shape)."""

from __future__ import annotations

from pydantic import Field

from model_api.core.schemas import Strict


class BatchTestRequest(Strict):
    dataset_id: int = Field(ge=0)
    version: int | None = Field(default=None, ge=1, description="default: the promoted version")
    flip_fraction: float = Field(default=0.0, ge=0, le=1)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class Retest(Strict):
    """Re-test a run on its exact rows, with a chosen or the promoted version."""

    version: int | None = Field(default=None, ge=1, description="default: the promoted version")
