"""Wrong label, or wrong model? Confident learning (cleanlab) on a run's out-of-sample scores.

The batch test scored every row of the run with a model that never saw those labels; the score
table holds each row's probability vector. ``cleanlab.filter.find_label_issues`` estimates the
per-class noise rates from the whole run and flags the rows whose given label is unlikely;
``cleanlab.rank.get_label_quality_scores`` ranks every row. We read those two results, not a
hand-made rule, and say why in words next to the numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

LABEL_ERROR = "label_error"
MODEL_ERROR = "model_error"
UNCERTAIN = "uncertain"
# A misclassification counts as the model's fault only when it was sure of its wrong answer;
# below this top-class probability the record is "uncertain" (a human has to look).
MODEL_ERROR_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class RowTriage:
    """The verdict for one record of a run."""

    label_quality: float | None
    suspected_cause: str
    suggested_label: str | None
    suggested_decision: str | None  # relabel | keep | None (a human decides)
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label_quality": self.label_quality,
            "suspected_cause": self.suspected_cause,
            "suggested_label": self.suggested_label,
            "suggested_decision": self.suggested_decision,
            "triage_reasons": list(self.reasons),
        }


@dataclass
class RunTriage:
    """Triage of every scored row of one run, by row position."""

    classes: list[str]
    rows: dict[int, RowTriage]
    scored_rows: int
    label_issues: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "classes": self.classes,
            "scored_rows": self.scored_rows,
            "label_issues": self.label_issues,
            "method": "cleanlab.filter.find_label_issues + cleanlab.rank.get_label_quality_scores",
            "notes": list(self.notes),
        }


def untriaged(reason: str) -> RowTriage:
    """A record without usable probabilities (unreadable, or not in the score table)."""
    return RowTriage(None, UNCERTAIN, None, None, [reason])


def triage_run(
    positions: Sequence[int], labels: Sequence[str], probs: np.ndarray, classes: Sequence[str]
) -> RunTriage:
    """Triage each row (``labels[i]`` given, ``probs[i]`` the model's vector over ``classes``)."""
    classes = list(classes)
    index = {c: i for i, c in enumerate(classes)}
    notes: list[str] = []
    known = [i for i, label in enumerate(labels) if label in index]
    if len(known) < len(labels):
        notes.append(f"{len(labels) - len(known)} rows have a label the model does not know")
    y = np.array([index[labels[i]] for i in known], dtype=np.int64)
    p = np.asarray(probs, dtype=float)[known] if known else np.zeros((0, len(classes)))
    issues = np.zeros(len(known), dtype=bool)
    quality = np.full(len(known), np.nan)
    if len(known):
        p = p / p.sum(axis=1, keepdims=True)  # the stored vectors are rounded decimals
        quality = get_label_quality_scores(y, p, method="self_confidence")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                # n_jobs=1: cleanlab would otherwise fork a multiprocessing pool inside this
                # threaded server (TensorFlow, the score-log writer), which can hang forever.
                issues = find_label_issues(y, p, filter_by="prune_by_noise_rate", n_jobs=1)
            except (ValueError, IndexError) as exc:  # too few rows or classes to estimate noise
                notes.append(f"cleanlab could not estimate label noise on this run: {exc}")
        notes += sorted({f"cleanlab: {w.message}" for w in caught})
    rows: dict[int, RowTriage] = {}
    for j, i in enumerate(known):
        rows[int(positions[i])] = _verdict(
            labels[i], p[j], float(quality[j]), bool(issues[j]), classes
        )
    for i in set(range(len(labels))) - set(known):
        rows[int(positions[i])] = untriaged(f"label {labels[i]!r} is not a class of the model")
    return RunTriage(classes, rows, len(labels), int(issues.sum()), notes)


def _verdict(
    label: str, p: np.ndarray, quality: float, issue: bool, classes: list[str]
) -> RowTriage:
    best = int(p.argmax())
    top, top_p = classes[best], float(p[best])
    q = round(quality, 6)
    if issue and top != label:
        return RowTriage(
            q,
            LABEL_ERROR,
            top,
            "relabel",
            [
                f"cleanlab flags the label: the model, which never saw it, gives {label!r} only "
                f"{quality:.3f} and {top!r} {top_p:.3f}",
            ],
        )
    if top != label and top_p >= MODEL_ERROR_MIN_CONFIDENCE:
        return RowTriage(
            q,
            MODEL_ERROR,
            label,
            "keep",
            [
                f"misclassified as {top!r} ({top_p:.3f}), but cleanlab finds {label!r} plausible "
                f"(label quality {quality:.3f}, not a label issue): a hard example",
            ],
        )
    reason = (
        f"misclassified as {top!r} with low confidence ({top_p:.3f})"
        if top != label
        else f"predicted its label {label!r} with low confidence ({top_p:.3f})"
    )
    return RowTriage(q, UNCERTAIN, top, None, [reason + "; cleanlab does not flag the label"])
