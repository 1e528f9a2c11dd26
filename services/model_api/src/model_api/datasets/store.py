"""Datasets: validated CSVs, ids 0, 1, 2, ... never reused; each file in the object store
(``datasets/<id>/data.csv``), its metadata under the data directory.

Dataset 0 is the bundled extended iris data set, created on first start so a fresh install has
something to train on (the course's list index 0).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from iris_common.clock import utc_now

from model_api.core.errors import ApiError, not_found
from model_api.core.files import atomic_write_bytes, atomic_write_json, numbered_dirs, read_json
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.datasets.stats import sorted_frame
from model_api.schema.features import FEATURE_NAMES, LABEL, parse_csv

BUNDLED_NAME = "iris_extended_encoded.csv"


def bundled_csv() -> bytes:
    """The data set shipped inside the package."""
    return resources.files("model_api").joinpath("data", BUNDLED_NAME).read_bytes()


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
    """Thread-safe store: metadata in memory, each data set's file in the object store."""

    def __init__(self, root: Path, objects: ObjectStore) -> None:
        self.root = root
        self.objects = objects
        self._lock = threading.RLock()
        self._meta: dict[int, dict[str, Any]] = {}
        self._frames: dict[int, pd.DataFrame] = {}
        self._next_id = 0
        self._load()

    def _load(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for ident in numbered_dirs(self.root):
            meta_path = self.root / str(ident) / "meta.json"
            if meta_path.exists():
                self._meta[ident] = read_json(meta_path)
        counter = self.root / "next_id"
        stored_next = int(counter.read_text()) if counter.exists() else 0
        self._next_id = max([stored_next, *(i + 1 for i in self._meta)])
        if self._next_id == 0:
            self.create(bundled_csv(), BUNDLED_NAME)

    def create(self, data: bytes | str, name: str | None = None) -> dict[str, Any]:
        """Validate and persist a CSV; returns the Dataset resource."""
        df = parse_csv(data)
        with self._lock:
            ident = self._next_id
            self._next_id += 1
            atomic_write_bytes(self.root / "next_id", str(self._next_id).encode())
            folder = self.root / str(ident)
            folder.mkdir(parents=True, exist_ok=True)
            self.objects.put(_key(ident), df.to_csv(index=False).encode())
            meta = describe(ident, name or f"dataset-{ident}", utc_now(), df)
            atomic_write_json(folder / "meta.json", meta)
            self._meta[ident] = meta
            self._frames[ident] = df
            return meta

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._meta[i] for i in sorted(self._meta)]

    def get(self, ident: int) -> dict[str, Any]:
        with self._lock:
            if ident not in self._meta:
                raise not_found("dataset", ident)
            return self._meta[ident]

    def frame(self, ident: int) -> pd.DataFrame:
        """The data (a copy callers may modify)."""
        with self._lock:
            self.get(ident)
            if ident not in self._frames:
                try:
                    data = self.objects.get(_key(ident))
                except ObjectMissing as exc:
                    raise missing_blob(f"dataset {ident}", _key(ident)) from exc
                self._frames[ident] = parse_csv(data)
            return self._frames[ident].copy()

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
        with self._lock:
            self.get(ident)
            if ident == 0:
                raise ApiError(
                    409, "dataset_protected", "dataset 0 is the bundled data set and stays"
                )
            shutil.rmtree(self.root / str(ident), ignore_errors=True)
            self._meta.pop(ident, None)
            self._frames.pop(ident, None)
            self.objects.delete_prefix(f"datasets/{ident}/")


def _key(ident: int) -> str:
    return f"datasets/{ident}/data.csv"
