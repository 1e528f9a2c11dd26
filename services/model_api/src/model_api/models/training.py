"""Training of models: ``create`` (the first training) and ``retrain`` (more training, from the
current weights) queue a job on the training worker and return 202 at once; the model's
``status`` / ``progress`` show where the job is. The fit itself is ``models.train.fit_new``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from model_api.core.errors import ApiError, conflict, invalid
from model_api.core.lease import LeaseLost
from model_api.datasets.store import DatasetStore
from model_api.models import network
from model_api.models.claims import JobClaims, Unleased, new_job
from model_api.models.queue import TrainingQueue
from model_api.models.schemas import ModelCreate, TrainRequest
from model_api.models.store import ACTIVE, KERAS, PREDICTOR, Deleted, ModelStore
from model_api.models.train import HISTORY_KEYS, fit_new
from model_api.schema.features import FEATURE_NAMES, LABEL

log = logging.getLogger(__name__)

TrainingJob = Future[Exception | None]  # its result: why the job failed, None if it did not
EMPTY_METRICS = {
    "holdout_accuracy": None,
    "holdout_loss": None,
    "train_accuracy": None,
    "holdout_rows": 0,
}


class Trainer:
    """Queues and runs the training jobs of models."""

    def __init__(
        self,
        store: ModelStore,
        queue: TrainingQueue,
        datasets: DatasetStore,
        max_epochs: int = 500,
    ) -> None:
        self.store, self.queue, self.datasets, self.max_epochs = store, queue, datasets, max_epochs
        self._lock = threading.Lock()
        self._jobs: dict[int, int] = {}  # model id → dataset id its queued or running job uses
        # Called when a job finishes: keeps the files as a version and returns its number
        # (model_api.models.service.VersionService.record_training).
        self.on_trained: Callable[[int, dict[str, bytes], dict[str, Any]], int] | None = None
        # Called before a model is queued for more training; raises to refuse it while a
        # retrain-flow job of the model waits or runs (model_api.retrain.flows), so the two
        # never train the same model at once.
        self.before_training: Callable[[int], None] | None = None
        # Claims on jobs (models.claims): none = this process is the only one training.
        self.claims: JobClaims | None = None

    def start(self) -> None:
        """Adopt, every heartbeat, the jobs no live replica holds (this one's own included,
        after a restart)."""
        if self.claims is not None:
            self.claims.watch(self.adopt_orphans)

    def stop(self) -> None:
        if self.claims is not None:
            self.claims.stop()

    def adopt_orphans(self) -> None:
        """Queue every job whose replica stopped (its lease expired, or it never started)."""
        if self.claims is None:
            return
        for rec in self.claims.orphans(self._running):
            job = rec["job"]
            log.info("claiming the training of model %s (job %s)", rec["id"], job["token"])
            resume = bool(job["resume"]) and self.store.has_weights(rec["id"])
            self._submit(rec["id"], rec["dataset_id"], dict(rec["params"]), resume, job["token"])

    def _running(self, ident: int) -> bool:
        with self._lock:
            return ident in self._jobs

    def dataset_in_use(self, dataset_id: int) -> bool:
        with self._lock:
            return dataset_id in self._jobs.values()

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
        with self.queue.slot():
            rec = self.store.add(
                {
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
                    "job": new_job(resume=False),
                }
            )
            token = rec["job"]["token"]
            return rec, self._submit(rec["id"], req.dataset_id, dict(rec["params"]), False, token)

    def retrain(self, ident: int, req: TrainRequest) -> tuple[dict[str, Any], TrainingJob]:
        """Queue more training of an existing model on a (possibly new) data set."""
        if req.epochs is not None:
            self._check_epochs(req.epochs)
        df = self.datasets.frame(req.dataset_id)
        with self.queue.slot():  # first, as the versions route does: a full queue is a 429
            rec = self.store.get(ident)
            if rec["status"] in ACTIVE:
                raise conflict("model_busy", f"model {ident} is {rec['status']}; wait for it")
            if self.before_training is not None:
                self.before_training(ident)
            unknown = sorted(set(df[LABEL].unique()) - set(rec["classes"]))
            if unknown:
                raise invalid(
                    f"dataset {req.dataset_id} has classes model {ident} does not know",
                    {"unknown": unknown, "model_classes": rec["classes"]},
                    code="unknown_classes",
                )
            params = {**rec["params"], **req.model_dump(exclude_none=True)}
            rec = self.store.update(
                ident,
                params=params,
                dataset_id=req.dataset_id,
                status="queued",
                error=None,
                progress=_progress(0, params["epochs"], {}),
                job=new_job(resume=True),
            )
            has_weights = self.store.has_weights(ident)
            token = rec["job"]["token"]
            return rec, self._submit(ident, req.dataset_id, params, has_weights, token)

    def delete(self, ident: int) -> None:
        """Remove a model; a running job notices at its next epoch and stops."""
        self.store.delete(ident)
        with self._lock:
            self._jobs.pop(ident, None)
        self.queue.forget(("model", ident))

    def _submit(
        self, ident: int, dataset_id: int, params: dict[str, Any], resume: bool, token: str
    ) -> Any:
        with self._lock:
            self._jobs[ident] = dataset_id
        return self.queue.submit(
            self._run_job, ident, dataset_id, params, resume, token, key=("model", ident)
        )

    def _check_epochs(self, epochs: int) -> None:
        if epochs > self.max_epochs:
            raise invalid(f"epochs must be at most {self.max_epochs}", {"epochs": epochs})

    # ----- the job (runs on the worker thread) -----
    def _run_job(
        self, ident: int, dataset_id: int, params: dict[str, Any], resume: bool, token: str
    ) -> Exception | None:
        """The job, run only under its claim; its future's result is why it failed (None on
        success, deletion or a claim elsewhere), so a waiting request can tell a diverged
        training (the data's fault) from a fault here."""
        claim = self.claims.take(ident, token) if self.claims is not None else Unleased()
        if claim is None:  # another replica trains it, or the record moved on
            with self._lock:
                self._jobs.pop(ident, None)
            return None
        try:
            self._train(ident, dataset_id, params, resume, claim.lost)
        except Deleted:
            log.info("model %s was deleted during training", ident)
        except LeaseLost:
            log.warning("model %s: the training lease was lost; its new holder trains it", ident)
        except Exception as exc:  # the job must record any failure, never die silently
            log.exception("training model %s failed", ident)
            if isinstance(exc, ApiError):
                message = exc.message
            elif isinstance(exc, network.TrainingDiverged):
                message = str(exc)
            else:
                message = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(Deleted):
                self.store.update(ident, status="failed", error=message)
            return exc
        finally:
            claim.stop()
            with self._lock:
                self._jobs.pop(ident, None)
        return None

    def _train(
        self,
        ident: int,
        dataset_id: int,
        params: dict[str, Any],
        resume: bool,
        lost: threading.Event,
    ) -> None:
        epochs = int(params["epochs"])
        self.store.update(ident, status="training", progress=_progress(0, epochs, {}))
        df = self.datasets.frame(dataset_id)
        classes: list[str] = self.store.get(ident)["classes"]

        def on_epoch(epoch: int, logs: dict[str, float]) -> bool:
            if lost.is_set():  # another replica holds the job now: write nothing more
                return False
            try:
                self.store.update(ident, progress=_progress(epoch, epochs, logs))
            except Deleted:
                return False
            return True

        resume_from = self.store.blob(ident, KERAS) if resume else None
        fitted = fit_new(df, classes, params, on_epoch, resume_from=resume_from)
        if lost.is_set():
            raise LeaseLost(f"model {ident}")
        blobs = {KERAS: network.keras_bytes(fitted.model), PREDICTOR: fitted.predictor.to_bytes()}
        with self.store.editing(ident) as rec:
            self.store.save_weights(ident, blobs)
            rec.update(
                status="ready",
                error=None,
                history=fitted.history,
                metrics=fitted.metrics,
                version=rec["version"] + 1,
            )
            if self.on_trained is not None:
                rec["version"] = self.on_trained(ident, blobs, rec)


def _progress(epoch: int, epochs: int, logs: dict[str, float]) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "epochs": epochs,
        "loss": logs.get("loss"),
        "accuracy": logs.get("accuracy"),
        "val_loss": logs.get("val_loss"),
        "val_accuracy": logs.get("val_accuracy"),
    }
