"""Response models of ``GET /api/schema`` and ``POST /api/schema/derive``."""

from __future__ import annotations

from typing import Any

from model_api.core.schemas import Open


class DerivedFeature(Open):
    name: str
    formula: str


class InputFeature(Open):
    name: str
    label: str
    integer: bool


class Schema(Open):
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


class Derived(Open):
    features: dict[str, float]
    values: list[float]
