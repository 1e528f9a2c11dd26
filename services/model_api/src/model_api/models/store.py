"""Model resources: ``<root>/<id>/model.json`` (the resource) on disk; in the object store
``models/<id>/model.keras`` (what further training continues from) and ``predictor.npz`` (numpy
weights: scoring needs no TensorFlow). Ids are never reused (``next_id`` is kept on disk).
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from iris_common.clock import utc_now

from model_api.core.errors import conflict, not_found
from model_api.core.files import atomic_write_bytes, atomic_write_json, numbered_dirs, read_json
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.models.network import Predictor

ACTIVE = ("queued", "training")
KERAS, PREDICTOR = "model.keras", "predictor.npz"


class Deleted(Exception):
    """The model was deleted (say, while its job ran)."""


class ModelStore:
    """Thread-safe store of model records, with the trained weights cached for reads."""

    def __init__(self, root: Path, objects: ObjectStore) -> None:
        self.root = root
        self.objects = objects
        self._lock = threading.RLock()
        self._records: dict[int, dict[str, Any]] = {}
        self._predictors: dict[int, Predictor] = {}
        self._next_id = 0
        self._load()

    def _load(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for ident in numbered_dirs(self.root):
            path = self.root / str(ident) / "model.json"
            if not path.exists():
                continue
            rec = read_json(path)
            # The process stopped mid-job. A claimable job (models.claims: it has a ``job``) is
            # trained again by whichever replica claims it; an older record says so instead.
            if rec["status"] in ACTIVE and not rec.get("job"):
                rec["status"] = "failed"
                rec["error"] = "training was interrupted by a service restart; train again"
                atomic_write_json(path, rec)
            self._records[ident] = rec
        counter = self.root / "next_id"
        stored = int(counter.read_text()) if counter.exists() else 0
        self._next_id = max([stored, *(i + 1 for i in self._records)])

    def folder(self, ident: int) -> Path:
        return self.root / str(ident)

    def key(self, ident: int, name: str) -> str:
        """The object store key of one of the model's blobs (``KERAS``, ``PREDICTOR``)."""
        return f"models/{ident}/{name}"

    def has_weights(self, ident: int) -> bool:
        return self.objects.exists(self.key(ident, KERAS))

    def blob(self, ident: int, name: str) -> bytes:
        """One of the model's blobs (500 ``blob_missing`` if the store lost it)."""
        try:
            return self.objects.get(self.key(ident, name))
        except ObjectMissing as exc:
            raise missing_blob(f"model {ident}", self.key(ident, name)) from exc

    def weights(self, ident: int) -> dict[str, bytes]:
        """The blobs the model has (none before its first training)."""
        out = {}
        for name in (PREDICTOR, KERAS):
            with contextlib.suppress(ObjectMissing):
                out[name] = self.objects.get(self.key(ident, name))
        return out

    def save_weights(self, ident: int, blobs: dict[str, bytes], predictor: Predictor) -> None:
        """Keep freshly trained weights, and the predictor for reads."""
        for name, data in blobs.items():
            self.objects.put(self.key(ident, name), data)
        with self._lock:
            self._predictors[ident] = predictor

    def _save(self, rec: dict[str, Any]) -> None:
        rec["updated_at"] = utc_now()
        atomic_write_json(self.folder(rec["id"]) / "model.json", rec)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._records[i]) for i in sorted(self._records)]

    def get(self, ident: int) -> dict[str, Any]:
        with self._lock:
            if ident not in self._records:
                raise not_found("model", ident)
            return copy.deepcopy(self._records[ident])

    def predictor(self, ident: int) -> tuple[Predictor, list[str]]:
        """The last trained weights (even while the model trains again)."""
        with self._lock:
            rec = self.get(ident)
            if rec["version"] < 1:
                raise conflict(
                    "model_not_ready",
                    f"model {ident} has no trained version yet (status {rec['status']})",
                    {"status": rec["status"]},
                )
            if ident not in self._predictors:
                self._predictors[ident] = Predictor.from_bytes(self.blob(ident, PREDICTOR))
            return self._predictors[ident], list(rec["classes"])

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a new model under the next id; returns its record."""
        with self._lock:
            ident = self._next_id
            self._next_id += 1
            atomic_write_bytes(self.root / "next_id", str(self._next_id).encode())
            now = utc_now()
            rec = {"id": ident, "name": f"model-{ident}", **fields}
            rec.update(created_at=now, updated_at=now)
            self.folder(ident).mkdir(parents=True, exist_ok=True)
            self._save(rec)
            self._records[ident] = rec
            return copy.deepcopy(rec)

    @contextlib.contextmanager
    def editing(self, ident: int) -> Iterator[dict[str, Any]]:
        """The live record under the lock, saved when the block ends without an error;
        ``Deleted`` if it is gone."""
        with self._lock:
            rec = self._records.get(ident)
            if rec is None:
                raise Deleted
            yield rec
            self._save(rec)

    def update(self, ident: int, **changes: Any) -> dict[str, Any]:
        """Change and save a record; ``Deleted`` if it is gone."""
        with self.editing(ident) as rec:
            rec.update(changes)
        return copy.deepcopy(rec)

    def delete(self, ident: int) -> None:
        with self._lock:
            if ident not in self._records:
                raise not_found("model", ident)
            del self._records[ident]
            self._predictors.pop(ident, None)
            shutil.rmtree(self.folder(ident), ignore_errors=True)
            self.objects.delete_prefix(f"models/{ident}/")
