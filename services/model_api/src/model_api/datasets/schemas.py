"""Response models of the data set routes."""

from __future__ import annotations

from typing import Any

from model_api.core.schemas import Open


class Dataset(Open):
    id: int
    name: str
    created_at: str
    rows: int
    columns: list[str]
    feature_names: list[str]
    class_counts: dict[str, int]
    stats: dict[str, Any]


class RowsPage(Open):
    total: int
    offset: int
    limit: int
    rows: list[dict[str, Any]]
