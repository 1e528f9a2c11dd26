"""Request bodies (bad input → 422 in the one error shape) and responses of the retrain API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from model_api.core.schemas import Open, Strict

Decision = Literal["relabel", "keep", "exclude"]
Cause = Literal["label_error", "model_error", "uncertain"]


class CandidateReview(Strict):
    partition_key: str = Field(min_length=1, max_length=256)
    sort_key: str = Field(min_length=1, max_length=256)
    decision: Decision
    label: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _label_only_for_relabel(self) -> CandidateReview:
        if self.label is not None and self.decision != "relabel":
            raise ValueError("'label' goes with decision 'relabel' only")
        return self


class ReviewRequest(Strict):
    """Either listed decisions, or "accept the suggestion of every label error of a run"."""

    reviews: list[CandidateReview] | None = Field(default=None, min_length=1, max_length=1000)
    run_id: str | None = Field(default=None, min_length=1, max_length=256)
    accept_suggestions: Cause | None = None
    overwrite: bool = False  # bulk accept: also replace existing reviews
    reviewer: str = Field(default="anonymous", min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_form(self) -> ReviewRequest:
        bulk = self.run_id is not None or self.accept_suggestions is not None
        if (self.reviews is None) == (not bulk):
            raise ValueError(
                "send either 'reviews' (a list of decisions) or 'run_id' with 'accept_suggestions'"
            )
        if bulk and (self.run_id is None or self.accept_suggestions is None):
            raise ValueError("'run_id' and 'accept_suggestions' go together")
        if bulk and self.accept_suggestions == "uncertain":
            raise ValueError("uncertain candidates have no suggestion to accept; review them")
        return self


class RetrainPage(Open):
    """``GET /api/retrain``: candidates with triage; follow ``next_cursor`` until null."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    triage: Any = None


class Reviewed(Open):
    count: int
    reviewed: list[dict[str, Any]]
