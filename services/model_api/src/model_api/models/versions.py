"""Model versions: every finished training kept, with its lineage; one promoted per model.

``<models>/<id>/versions/<v>/version.json`` (lineage and metrics) on disk; in the object store
``models/<id>/versions/<v>/`` holds ``predictor.npz`` (what scores), ``model.keras`` and
``rows.json`` (digests of the rows it saw, so a comparison can refuse them), written before the
version's record so a version appears whole or not at all. ``<models>/<id>/promotion.json``
names the promoted version and every promotion ever made (rollback = promoting an earlier one).
Versions are never rewritten.
"""

from __future__ import annotations

import copy
import json
import shutil
import threading
from pathlib import Path
from typing import Any

from iris_common.clock import utc_now

from model_api.core.errors import conflict, not_found
from model_api.core.files import atomic_write_json, numbered_dirs, read_json
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.models.network import Predictor

FILES = ("predictor.npz", "model.keras")
ROWS = "rows.json"


class VersionStore:
    """Versions of every model, their predictors (cached) and the promotion record."""

    def __init__(self, root: Path, objects: ObjectStore) -> None:
        self.root = root
        self.objects = objects
        self._lock = threading.RLock()
        self._predictors: dict[tuple[int, int], Predictor] = {}

    def _dir(self, model_id: int) -> Path:
        return self.root / str(model_id) / "versions"

    def _key(self, model_id: int, version: int, name: str) -> str:
        return f"models/{model_id}/versions/{version}/{name}"

    def _blob(self, model_id: int, version: int, name: str) -> bytes:
        key = self._key(model_id, version, name)
        try:
            return self.objects.get(key)
        except ObjectMissing as exc:
            raise missing_blob(f"version {version} of model {model_id}", key) from exc

    def _promotion_path(self, model_id: int) -> Path:
        return self.root / str(model_id) / "promotion.json"

    # ----- reads -----
    def numbers(self, model_id: int) -> list[int]:
        return numbered_dirs(self._dir(model_id))

    def promotion(self, model_id: int) -> dict[str, Any]:
        path = self._promotion_path(model_id)
        return read_json(path) if path.exists() else {"version": None, "history": []}

    def promoted(self, model_id: int) -> int | None:
        return self.promotion(model_id)["version"]

    def get(self, model_id: int, version: int) -> dict[str, Any]:
        path = self._dir(model_id) / str(version) / "version.json"
        if not path.exists():
            raise not_found("version", f"{version} of model {model_id}")
        rec = read_json(path)
        rec["promoted"] = self.promoted(model_id) == version
        return rec

    def list(self, model_id: int) -> list[dict[str, Any]]:
        return [self.get(model_id, v) for v in self.numbers(model_id)]

    def trained_rows(self, model_id: int, version: int) -> set[str]:
        self.get(model_id, version)
        return set(json.loads(self._blob(model_id, version, ROWS)))

    def predictor(self, model_id: int, version: int | None) -> tuple[Predictor, int]:
        """The named version's predictor, or the promoted one's (409 before any training)."""
        with self._lock:
            if version is None:
                version = self.promoted(model_id)
                if version is None:
                    raise conflict(
                        "model_not_ready", f"model {model_id} has no trained version yet"
                    )
            self.get(model_id, version)
            key = (model_id, version)
            if key not in self._predictors:
                loaded = Predictor.from_bytes(self._blob(model_id, version, FILES[0]))
                if not loaded.is_finite():  # e.g. saved before training checked for NaN
                    raise conflict(
                        "model_not_finite",
                        f"model {model_id} version {version} has weights that are not finite "
                        "numbers; train it again",
                    )
                self._predictors[key] = loaded
            return self._predictors[key], version

    # ----- writes -----
    def add(
        self, model_id: int, blobs: dict[str, bytes], lineage: dict[str, Any], rows: list[str]
    ) -> dict[str, Any]:
        """Keep ``blobs`` (``predictor.npz``, ``model.keras``) as a new version."""
        with self._lock:
            version = max(self.numbers(model_id), default=0) + 1
            folder = self._dir(model_id) / str(version)
            staging = self._dir(model_id) / f".{version}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for name in FILES:
                if name in blobs:
                    self.objects.put(self._key(model_id, version, name), blobs[name])
            rows_json = json.dumps(sorted(set(rows)), separators=(",", ":")).encode()
            self.objects.put(self._key(model_id, version, ROWS), rows_json)
            rec = {"model_id": model_id, "version": version, "created_at": utc_now(), **lineage}
            atomic_write_json(staging / "version.json", rec)
            staging.rename(folder)  # a version appears whole or not at all
            self._predictors.pop((model_id, version), None)
            return copy.deepcopy(rec)

    def set_promoted(self, model_id: int, entry: dict[str, Any]) -> dict[str, Any]:
        """Record a promotion (``entry`` says which version, why, forced or not)."""
        with self._lock:
            state = self.promotion(model_id)
            entry = {**entry, "previous": state["version"], "at": utc_now()}
            state["version"] = entry["version"]
            state["history"].append(entry)
            atomic_write_json(self._promotion_path(model_id), state)
            return copy.deepcopy(state)

    def forget(self, model_id: int) -> None:
        with self._lock:
            for key in [k for k in self._predictors if k[0] == model_id]:
                del self._predictors[key]

    def by_job(self, model_id: int, job_id: str) -> dict[str, Any] | None:
        """The version a job already made (a job re-run after a restart must not make two)."""
        for rec in self.list(model_id):
            if rec.get("job_id") == job_id:
                return rec
        return None
