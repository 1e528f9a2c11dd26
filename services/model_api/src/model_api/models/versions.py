"""Model versions: every finished training kept, with its lineage; one promoted per model.

Each version is a registry item (``pk="version#<model>"``, lineage and metrics) whose blobs are
in the object store under ``models/<id>/versions/<v>/``: ``predictor.npz`` (what scores),
``model.keras`` and ``rows.json`` (digests of the rows it saw, so a comparison can refuse them),
written before the item so a version appears whole or not at all. The promotion item
(``pk="promotion"``) names the promoted version and every promotion ever made (rollback =
promoting an earlier one). Versions are never rewritten, so replicas cache them by
(model, version); the promotion is mutable and read from the registry (the single-score path
keeps it a moment: models.service).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from iris_common.clock import utc_now

from model_api.core.documents import get_doc, put_doc, query_docs
from model_api.core.errors import conflict, not_found
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.core.registry import ConditionFailed, Registry
from model_api.models.network import Predictor
from model_api.models.store import finite

FILES = ("predictor.npz", "model.keras")
ROWS = "rows.json"
PROMOTION = "promotion"


def _sk(number: int) -> str:
    return f"{number:010d}"


def _pk(model_id: int) -> str:
    return f"version#{model_id}"


class VersionStore:
    """Versions of every model, their predictors (cached) and the promotion record."""

    def __init__(self, registry: Registry, objects: ObjectStore) -> None:
        self.registry = registry
        self.objects = objects
        self._lock = threading.Lock()
        self._records: dict[tuple[int, int], dict[str, Any]] = {}
        self._predictors: dict[tuple[int, int], Predictor] = {}

    def _key(self, model_id: int, version: int, name: str) -> str:
        return f"models/{model_id}/versions/{version}/{name}"

    def _blob(self, model_id: int, version: int, name: str) -> bytes:
        key = self._key(model_id, version, name)
        try:
            return self.objects.get(key)
        except ObjectMissing as exc:
            raise missing_blob(f"version {version} of model {model_id}", key) from exc

    # ----- reads -----
    def numbers(self, model_id: int) -> list[int]:
        return [int(sk) for sk, _ in self.registry.query(_pk(model_id))]

    def promotion(self, model_id: int) -> dict[str, Any]:
        state = get_doc(self.registry, PROMOTION, _sk(model_id))
        return state or {"version": None, "history": []}

    def promoted(self, model_id: int) -> int | None:
        return self.promotion(model_id)["version"]

    def record(self, model_id: int, version: int) -> dict[str, Any]:
        key = (model_id, version)
        with self._lock:
            rec = self._records.get(key)
        if rec is None:
            rec = get_doc(self.registry, _pk(model_id), _sk(version)) if version >= 1 else None
            if rec is None:
                raise not_found("version", f"{version} of model {model_id}")
            with self._lock:
                self._records[key] = rec
        return copy.deepcopy(rec)

    def get(self, model_id: int, version: int) -> dict[str, Any]:
        rec = self.record(model_id, version)
        rec["promoted"] = self.promoted(model_id) == version
        return rec

    def list(self, model_id: int) -> list[dict[str, Any]]:
        promoted = self.promoted(model_id)
        out = []
        for sk, rec in query_docs(self.registry, _pk(model_id)):
            with self._lock:
                self._records.setdefault((model_id, int(sk)), copy.deepcopy(rec))
            out.append({**rec, "promoted": promoted == int(sk)})
        return out

    def trained_rows(self, model_id: int, version: int) -> set[str]:
        self.record(model_id, version)
        return set(json.loads(self._blob(model_id, version, ROWS)))

    def predictor(self, model_id: int, version: int) -> Predictor:
        """The version's predictor, loaded once per replica (versions never change)."""
        self.record(model_id, version)
        key = (model_id, version)
        with self._lock:
            cached = self._predictors.get(key)
        if cached is None:
            cached = Predictor.from_bytes(self._blob(model_id, version, FILES[0]))
            if not cached.is_finite():  # e.g. saved before training checked for NaN
                raise conflict(
                    "model_not_finite",
                    f"model {model_id} version {version} has weights that are not finite "
                    "numbers; train it again",
                )
            with self._lock:
                self._predictors[key] = cached
        return cached

    # ----- writes -----
    def add(
        self, model_id: int, blobs: dict[str, bytes], lineage: dict[str, Any], rows: list[str]
    ) -> dict[str, Any]:
        """Keep ``blobs`` (``predictor.npz``, ``model.keras``) as a new version."""
        version = self.registry.next_id(_pk(model_id)) + 1  # versions count from 1
        for name in FILES:
            if name in blobs:
                self.objects.put(self._key(model_id, version, name), blobs[name])
        rows_json = json.dumps(sorted(set(rows)), separators=(",", ":")).encode()
        self.objects.put(self._key(model_id, version, ROWS), rows_json)
        rec = finite({"model_id": model_id, "version": version, "created_at": utc_now(), **lineage})
        put_doc(
            self.registry, _pk(model_id), _sk(version), rec, new=True
        )  # last: the version appears
        return copy.deepcopy(rec)

    def set_promoted(self, model_id: int, entry: dict[str, Any]) -> dict[str, Any]:
        """Record a promotion (``entry`` says which version, why, forced or not); 409 if another
        promotion of the model landed since it was read (a replica promoted at the same time)."""
        state = self.promotion(model_id)
        entry = {**entry, "previous": state["version"], "at": utc_now()}
        seen = len(state["history"])
        state["version"] = entry["version"]
        state["history"].append(entry)
        try:
            put_doc(
                self.registry,
                PROMOTION,
                _sk(model_id),
                state,
                extra={"count": seen + 1},
                condition="attribute_not_exists(pk) OR #c = :c",
                names={"#c": "count"},
                values={":c": seen},
            )
        except ConditionFailed as exc:
            raise conflict(
                "promotion_changed",
                f"model {model_id} was promoted by someone else meanwhile; look again",
                {"model_id": model_id},
            ) from exc
        return copy.deepcopy(state)

    def forget(self, model_id: int) -> None:
        """Remove a deleted model's versions and promotion (their blobs go with the model's)."""
        for sk, _ in self.registry.query(_pk(model_id)):
            self.registry.delete(_pk(model_id), sk)
        self.registry.delete(PROMOTION, _sk(model_id))
        with self._lock:
            for cache in (self._records, self._predictors):
                for key in [k for k in cache if k[0] == model_id]:
                    del cache[key]

    def by_job(self, model_id: int, job_id: str) -> dict[str, Any] | None:
        """The version a job already made (a job re-run after a restart must not make two)."""
        for rec in self.list(model_id):
            if rec.get("job_id") == job_id:
                return rec
        return None
