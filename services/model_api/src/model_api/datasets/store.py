"""Datasets: validated CSVs, ids 0, 1, 2, ... never reused. Each file is an object
(``datasets/<id>/data.csv``), its metadata a registry item (``pk="dataset"``), so every replica
lists the same data sets.

Dataset 0 is the bundled extended iris data set, created once by whichever replica starts first
(a conditional put) so a fresh install has something to train on (the course's list index 0).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any

import pandas as pd
from iris_common.clock import utc_now

from model_api.core.documents import get_doc, put_doc, query_docs
from model_api.core.errors import ApiError, not_found
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.core.registry import ConditionFailed, Registry
from model_api.datasets.stats import sorted_frame
from model_api.schema.features import FEATURE_NAMES, LABEL, parse_csv

BUNDLED_NAME = "iris_extended_encoded.csv"
KIND = "dataset"


def bundled_csv() -> bytes:
    """The data set shipped inside the package."""
    return resources.files("model_api").joinpath("data", BUNDLED_NAME).read_bytes()


def sort_key(ident: int) -> str:
    """A registry sort key that orders ids as numbers (``0000000012``)."""
    return f"{ident:010d}"


def describe(ident: int, name: str, created_at: str, df: pd.DataFrame) -> dict[str, Any]:
    """The Dataset resource: shape, class balance and per-column statistics."""
    stats = {
        col: {
            "mean": float(df[col].mean()),
            "std": float(df[col].std(ddof=0)),
            "min": float(df[col].min()),
            "max": float(df[col].max()),
        }
        for col in FEATURE_NAMES
    }
    counts = {str(k): int(v) for k, v in df[LABEL].value_counts().sort_index().items()}
    return {
        "id": ident,
        "name": name,
        "created_at": created_at,
        "rows": len(df),
        "columns": list(df.columns),
        "feature_names": list(FEATURE_NAMES),
        "class_counts": counts,
        "stats": stats,
    }


class DatasetStore:
    """Metadata in the registry, files in the object store; frames cached by id (a data set
    never changes, so the cache cannot contradict another replica)."""

    def __init__(self, registry: Registry, objects: ObjectStore) -> None:
        self.registry = registry
        self.objects = objects
        self._lock = threading.Lock()
        self._frames: dict[int, pd.DataFrame] = {}
        self._ensure_bundled()

    def _ensure_bundled(self) -> None:
        if self.registry.get(KIND, sort_key(0)) is not None:
            return
        self._store(0, bundled_csv(), BUNDLED_NAME, first=True)

    def _store(
        self, ident: int, data: bytes | str, name: str, first: bool = False
    ) -> dict[str, Any]:
        df = parse_csv(data)
        self.objects.put(_key(ident), df.to_csv(index=False).encode())  # before its record
        meta = describe(ident, name, utc_now(), df)
        try:
            put_doc(self.registry, KIND, sort_key(ident), meta, new=True)
        except ConditionFailed:
            if not first:
                raise
            return self.get(ident)  # another replica made dataset 0 at the same moment
        with self._lock:
            self._frames[ident] = df
        return meta

    def create(self, data: bytes | str, name: str | None = None) -> dict[str, Any]:
        """Validate and persist a CSV; returns the Dataset resource."""
        parse_csv(data)  # bad input gets its 422 before an id is spent
        ident = self.registry.next_id(KIND) + 1  # 0 is the bundled data set's
        return self._store(ident, data, name or f"dataset-{ident}")

    def list(self) -> list[dict[str, Any]]:
        return [meta for _, meta in query_docs(self.registry, KIND)]

    def get(self, ident: int) -> dict[str, Any]:
        meta = get_doc(self.registry, KIND, sort_key(ident)) if ident >= 0 else None
        if meta is None:
            raise not_found("dataset", ident)
        return meta

    def frame(self, ident: int) -> pd.DataFrame:
        """The data (a copy callers may modify); 404 once deleted, on any replica."""
        self.get(ident)
        with self._lock:
            cached = self._frames.get(ident)
        if cached is None:
            try:
                cached = parse_csv(self.objects.get(_key(ident)))
            except ObjectMissing as exc:
                raise missing_blob(f"dataset {ident}", _key(ident)) from exc
            with self._lock:
                self._frames[ident] = cached
        return cached.copy()

    def rows(self, ident: int, offset: int, limit: int, sort: Sequence[str] = ()) -> dict[str, Any]:
        df = sorted_frame(self.frame(ident), sort)
        page = df.iloc[offset : offset + limit].astype(object)
        return {
            "total": len(df),
            "offset": offset,
            "limit": limit,
            "rows": page.to_dict(orient="records"),
        }

    def delete(self, ident: int) -> None:
        self.get(ident)
        if ident == 0:
            raise ApiError(409, "dataset_protected", "dataset 0 is the bundled data set and stays")
        self.registry.delete(KIND, sort_key(ident))
        with self._lock:
            self._frames.pop(ident, None)
        self.objects.delete_prefix(f"datasets/{ident}/")


def _key(ident: int) -> str:
    return f"datasets/{ident}/data.csv"
