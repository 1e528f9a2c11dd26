"""The flagging rules: why a score record is a retraining candidate.

Pure functions so the policy is testable without any AWS shape around it.
"""

from __future__ import annotations

MISCLASSIFIED = "misclassified"
LOW_CONFIDENCE = "low_confidence"
UNREADABLE = "unreadable"  # a record that can never be read is a candidate too (see records.py)


def flag_reasons(predicted: str, actual: str, probability: float, threshold: float) -> list[str]:
    """The reasons (in a fixed order) for flagging a record; empty when it is fine.

    Strictly below the threshold is low confidence, so a probability equal to it passes.
    """
    reasons: list[str] = []
    if predicted != actual:
        reasons.append(MISCLASSIFIED)
    if probability < threshold:
        reasons.append(LOW_CONFIDENCE)
    return reasons
