"""Model resources: each record a registry item (``pk="model"``), so every replica sees the same
models and their status; in the object store ``models/<id>/model.keras`` (what further training
continues from) and ``predictor.npz`` (numpy weights: scoring needs no TensorFlow). Ids come
from the registry's atomic counter: 0, 1, 2, ... never reused.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

from iris_common.clock import utc_now

from model_api.core.documents import get_doc, put_doc, query_docs
from model_api.core.errors import conflict, not_found
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.core.registry import ConditionFailed, Registry
from model_api.models.network import Predictor

ACTIVE = ("queued", "training")
KERAS, PREDICTOR = "model.keras", "predictor.npz"
KIND = "model"


class Deleted(Exception):
    """The model was deleted (say, while its job ran)."""


def sort_key(ident: int) -> str:
    return f"{ident:010d}"


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (a diverging epoch's ``val_loss``): the
    registry stores only finite numbers, and JSON answers cannot carry the others."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


class ModelStore:
    """Model records in the registry (nothing kept in memory that a replica could contradict),
    their latest weights in the object store."""

    def __init__(self, registry: Registry, objects: ObjectStore) -> None:
        self.registry = registry
        self.objects = objects
        self._lock = threading.RLock()  # one read-modify-write of a record at a time here

    def interrupted(self) -> None:
        """Mark the models left queued or training by a stopped process as failed (their old
        weights stay).

        Called once at start: with one replica per registry (the embedded default) a record
        still ACTIVE can only be one whose process died mid-job.
        """
        for _, rec in query_docs(self.registry, KIND):
            # A claimable job (models.claims: it has a ``job``) is trained again by whichever
            # replica claims it; an older record says so instead.
            if rec["status"] in ACTIVE and not rec.get("job"):
                with contextlib.suppress(Deleted):
                    self.update(
                        rec["id"],
                        status="failed",
                        error="training was interrupted by a service restart; train again",
                    )

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

    def save_weights(self, ident: int, blobs: dict[str, bytes]) -> None:
        """Keep freshly trained weights (what the next plain training continues from)."""
        for name, data in blobs.items():
            self.objects.put(self.key(ident, name), data)

    def list(self) -> list[dict[str, Any]]:
        return [rec for _, rec in query_docs(self.registry, KIND)]

    def get(self, ident: int) -> dict[str, Any]:
        rec = get_doc(self.registry, KIND, sort_key(ident)) if ident >= 0 else None
        if rec is None:
            raise not_found("model", ident)
        return rec

    def predictor(self, ident: int) -> tuple[Predictor, list[str]]:
        """The last trained weights (even while the model trains again; scoring goes through
        the versions, which cache theirs)."""
        rec = self.get(ident)
        if rec["version"] < 1:
            raise conflict(
                "model_not_ready",
                f"model {ident} has no trained version yet (status {rec['status']})",
                {"status": rec["status"]},
            )
        return Predictor.from_bytes(self.blob(ident, PREDICTOR)), list(rec["classes"])

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a new model under the next id; returns its record."""
        ident = self.registry.next_id(KIND)
        now = utc_now()
        rec = finite({"id": ident, "name": f"model-{ident}", **fields})
        rec.update(created_at=now, updated_at=now)
        put_doc(self.registry, KIND, sort_key(ident), rec, new=True)
        return rec

    @contextlib.contextmanager
    def editing(self, ident: int) -> Iterator[dict[str, Any]]:
        """The record, saved when the block ends without an error; ``Deleted`` if it is gone
        (then, or by the time it is saved)."""
        with self._lock:
            rec = get_doc(self.registry, KIND, sort_key(ident))
            if rec is None:
                raise Deleted
            yield rec
            rec["updated_at"] = utc_now()
            try:
                put_doc(
                    self.registry,
                    KIND,
                    sort_key(ident),
                    finite(rec),
                    condition="attribute_exists(pk)",
                )
            except ConditionFailed as exc:
                raise Deleted from exc

    def update(self, ident: int, **changes: Any) -> dict[str, Any]:
        """Change and save a record; ``Deleted`` if it is gone."""
        with self.editing(ident) as rec:
            rec.update(changes)
        return finite(rec)

    def delete(self, ident: int) -> None:
        self.get(ident)
        self.registry.delete(KIND, sort_key(ident))
        self.objects.delete_prefix(f"models/{ident}/")
