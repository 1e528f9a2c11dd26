"""Models and their training jobs.

Training is slow and CPU-bound, so it runs on one background worker thread (the machine has two
cores; a second concurrent fit would only slow both). Requests return 202 at once and the model's
``status`` / ``progress`` show where the job is. Each model lives in ``<root>/<id>/``:
``model.json`` (the resource), ``model.keras`` (for retraining) and ``predictor.npz`` (what
scoring loads: numpy weights, no TensorFlow needed).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from model_api.core.clock import utc_now
from model_api.core.errors import ApiError, conflict, invalid, not_found, too_busy
from model_api.core.files import atomic_write_bytes, atomic_write_json, numbered_dirs, read_json
from model_api.datasets.store import DatasetStore
from model_api.models import network
from model_api.models.network import Predictor
from model_api.models.schemas import ModelCreate, TrainRequest
from model_api.models.train import HISTORY_KEYS, fit_new
from model_api.schema.features import FEATURE_NAMES, LABEL

log = logging.getLogger(__name__)

ACTIVE = ("queued", "training")
TrainingJob = Future[Exception | None]  # its result: why the job failed, None if it did not
QUEUE_RETRY_AFTER = 30  # seconds: a default-sized job on the bundled data set takes about this
EMPTY_METRICS = {
    "holdout_accuracy": None,
    "holdout_loss": None,
    "train_accuracy": None,
    "holdout_rows": 0,
}


class _Cancelled(Exception):
    """The model was deleted while its job ran."""


class ModelRegistry:
    """Model resources, their files and the single training worker."""

    def __init__(
        self,
        root: Path,
        datasets: DatasetStore,
        max_epochs: int = 500,
        *,
        max_queued: int | None = None,
    ) -> None:
        self.root = root
        self.datasets = datasets
        self.max_epochs = max_epochs
        self.max_queued = max_queued
        self._lock = threading.RLock()
        self._records: dict[int, dict[str, Any]] = {}
        self._predictors: dict[int, Predictor] = {}
        self._jobs: dict[int, int] = {}  # model id → dataset id its queued or running job uses
        self._other: set[Future[None]] = set()  # other training work (retrain flows) submitted
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="train")
        self._next_id = 0
        # Called (under the lock) when a job finishes: keeps the files as a version and returns
        # its number (model_api.models.service.VersionService.record_training).
        self.on_trained: Callable[[int, Path, dict[str, Any]], int] | None = None
        # Called (under the lock) before a model is queued for more training; raises to refuse
        # it while a retrain-flow job of the model waits or runs (model_api.retrain.flows), so
        # the two never train the same model at once.
        self.before_training: Callable[[int], None] | None = None
        self._load()

    # ----- persistence -----
    def _load(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for ident in numbered_dirs(self.root):
            path = self.root / str(ident) / "model.json"
            if not path.exists():
                continue
            rec = read_json(path)
            if rec["status"] in ACTIVE:  # the process stopped mid-job: say so, keep old weights
                rec["status"] = "failed"
                rec["error"] = "training was interrupted by a service restart; train again"
                atomic_write_json(path, rec)
            self._records[ident] = rec
        counter = self.root / "next_id"
        stored = int(counter.read_text()) if counter.exists() else 0
        self._next_id = max([stored, *(i + 1 for i in self._records)])

    def _save(self, rec: dict[str, Any]) -> None:
        rec["updated_at"] = utc_now()
        atomic_write_json(self.root / str(rec["id"]) / "model.json", rec)

    # ----- reads -----
    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._records[i]) for i in sorted(self._records)]

    def get(self, ident: int) -> dict[str, Any]:
        with self._lock:
            if ident not in self._records:
                raise not_found("model", ident)
            return copy.deepcopy(self._records[ident])

    def predictor(self, ident: int) -> tuple[Predictor, list[str]]:
        """The trained weights for scoring (the last finished version, even while retraining)."""
        with self._lock:
            rec = self.get(ident)
            if rec["version"] < 1:
                raise conflict(
                    "model_not_ready",
                    f"model {ident} has no trained version yet (status {rec['status']})",
                    {"status": rec["status"]},
                )
            if ident not in self._predictors:
                self._predictors[ident] = Predictor.load(self.root / str(ident) / "predictor.npz")
            return self._predictors[ident], list(rec["classes"])

    def dataset_in_use(self, dataset_id: int) -> bool:
        with self._lock:
            return dataset_id in self._jobs.values()

    # ----- writes -----
    def create(self, req: ModelCreate) -> tuple[dict[str, Any], TrainingJob]:
        """Register a model and queue its first training; returns (resource, job future)."""
        self._check_epochs(req.epochs)
        df = self.datasets.frame(req.dataset_id)
        classes = sorted(df[LABEL].unique().tolist())
        if len(classes) < 2:
            raise invalid(
                f"dataset {req.dataset_id} has only one class; a classifier needs two or more",
                {"classes": classes},
            )
        with self._lock:
            self._check_queue()
            ident = self._next_id
            self._next_id += 1
            atomic_write_bytes(self.root / "next_id", str(self._next_id).encode())
            now = utc_now()
            rec: dict[str, Any] = {
                "id": ident,
                "name": f"model-{ident}",
                "status": "queued",
                "dataset_id": req.dataset_id,
                "classes": classes,
                "feature_names": list(FEATURE_NAMES),
                "params": req.model_dump(),
                "progress": _progress(0, req.epochs, {}),
                "history": {k: [] for k in HISTORY_KEYS},
                "metrics": dict(EMPTY_METRICS),
                "error": None,
                "version": 0,
                "created_at": now,
                "updated_at": now,
            }
            (self.root / str(ident)).mkdir(parents=True, exist_ok=True)
            self._save(rec)
            self._records[ident] = rec
            self._jobs[ident] = req.dataset_id
            future = self._executor.submit(
                self._run_job, ident, req.dataset_id, dict(rec["params"]), False
            )
            return copy.deepcopy(rec), future

    def retrain(self, ident: int, req: TrainRequest) -> tuple[dict[str, Any], TrainingJob]:
        """Queue more training of an existing model on a (possibly new) data set."""
        if req.epochs is not None:
            self._check_epochs(req.epochs)
        df = self.datasets.frame(req.dataset_id)
        with self._lock:
            rec = self._records.get(ident)
            if rec is None:
                raise not_found("model", ident)
            if rec["status"] in ACTIVE:
                raise conflict("model_busy", f"model {ident} is {rec['status']}; wait for it")
            self._check_queue()  # first, as the versions route does: a full queue is a 429
            if self.before_training is not None:
                self.before_training(ident)
            unknown = sorted(set(df[LABEL].unique()) - set(rec["classes"]))
            if unknown:
                raise invalid(
                    f"dataset {req.dataset_id} has classes model {ident} does not know",
                    {"unknown": unknown, "model_classes": rec["classes"]},
                    code="unknown_classes",
                )
            params = dict(rec["params"])
            overrides = req.model_dump(exclude_none=True)
            params.update(overrides)
            rec["params"] = params
            rec["dataset_id"] = req.dataset_id
            rec["status"] = "queued"
            rec["error"] = None
            rec["progress"] = _progress(0, params["epochs"], {})
            self._save(rec)
            self._jobs[ident] = req.dataset_id
            has_weights = (self.root / str(ident) / "model.keras").exists()
            future = self._executor.submit(
                self._run_job, ident, req.dataset_id, params, has_weights
            )
            return copy.deepcopy(rec), future

    def delete(self, ident: int) -> None:
        """Remove a model; a running job notices at its next epoch and stops."""
        with self._lock:
            if ident not in self._records:
                raise not_found("model", ident)
            del self._records[ident]
            self._predictors.pop(ident, None)
            self._jobs.pop(ident, None)
            shutil.rmtree(self.root / str(ident), ignore_errors=True)

    def submit(self, fn: Callable[..., None], *args: Any) -> Future[None]:
        """Queue other work that trains (a retrain flow's job) on the one training worker; it
        counts in the queue bound while it waits (the caller checks with ``queue_slot``)."""
        with self._lock:
            future = self._executor.submit(fn, *args)
            self._other.add(future)
        future.add_done_callback(self._settled)
        return future

    def _settled(self, future: Future[None]) -> None:
        with self._lock:
            self._other.discard(future)

    def check_queue(self) -> None:
        """429 ``training_queue_full`` when as many jobs wait as the bound allows."""
        with self._lock:
            self._check_queue()

    @contextlib.contextmanager
    def queue_slot(self) -> Iterator[None]:
        """Refuse (429) when the training queue is full, else hold the lock while the caller
        records and submits its job, so no other request takes the last slot in between."""
        with self._lock:
            self._check_queue()
            yield

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _check_queue(self) -> None:
        """Refuse a job when ``max_queued`` wait already (call under the lock, before writing)."""
        if self.max_queued is None:
            return
        waiting = sum(1 for i in self._jobs if self._records[i]["status"] == "queued")
        waiting += sum(1 for f in self._other if not (f.running() or f.done()))
        if waiting >= self.max_queued:
            raise too_busy(
                "training_queue_full",
                f"{waiting} training jobs are waiting already (the limit); try again later",
                QUEUE_RETRY_AFTER,
                {"queued": waiting, "limit": self.max_queued},
            )

    def _check_epochs(self, epochs: int) -> None:
        if epochs > self.max_epochs:
            raise invalid(f"epochs must be at most {self.max_epochs}", {"epochs": epochs})

    # ----- the job (runs on the worker thread) -----
    def _update(self, ident: int, **changes: Any) -> None:
        with self._lock:
            rec = self._records.get(ident)
            if rec is None:
                raise _Cancelled
            rec.update(changes)
            self._save(rec)

    def _run_job(
        self, ident: int, dataset_id: int, params: dict[str, Any], resume: bool
    ) -> Exception | None:
        """The job; its future's result is why it failed (None on success or deletion), so a
        waiting request can tell a diverged training (the data's fault) from a fault here."""
        try:
            self._train(ident, dataset_id, params, resume)
        except _Cancelled:
            log.info("model %s was deleted during training", ident)
        except Exception as exc:  # the job must record any failure, never die silently
            log.exception("training model %s failed", ident)
            if isinstance(exc, ApiError):
                message = exc.message
            elif isinstance(exc, network.TrainingDiverged):
                message = str(exc)
            else:
                message = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(_Cancelled):
                self._update(ident, status="failed", error=message)
            return exc
        finally:
            with self._lock:
                self._jobs.pop(ident, None)
        return None

    def _train(self, ident: int, dataset_id: int, params: dict[str, Any], resume: bool) -> None:
        epochs = int(params["epochs"])
        self._update(ident, status="training", progress=_progress(0, epochs, {}))
        df = self.datasets.frame(dataset_id)
        classes: list[str] = self.get(ident)["classes"]
        path = self.root / str(ident) / "model.keras"

        def on_epoch(epoch: int, logs: dict[str, float]) -> bool:
            try:
                self._update(ident, progress=_progress(epoch, epochs, logs))
            except _Cancelled:
                return False
            return True

        fitted = fit_new(df, classes, params, on_epoch, resume_from=path if resume else None)
        with self._lock:
            rec = self._records.get(ident)
            if rec is None:
                raise _Cancelled
            folder = self.root / str(ident)
            network.save_keras(fitted.model, path)
            fitted.predictor.save(folder / "predictor.npz")
            self._predictors[ident] = fitted.predictor
            rec.update(
                status="ready",
                error=None,
                history=fitted.history,
                metrics=fitted.metrics,
                version=rec["version"] + 1,
            )
            if self.on_trained is not None:
                rec["version"] = self.on_trained(ident, folder, rec)
            self._save(rec)


def _progress(epoch: int, epochs: int, logs: dict[str, float]) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "epochs": epochs,
        "loss": logs.get("loss"),
        "accuracy": logs.get("accuracy"),
        "val_loss": logs.get("val_loss"),
        "val_accuracy": logs.get("val_accuracy"),
    }
