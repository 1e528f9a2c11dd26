"""The retraining flow: reviewed candidates + a base data set → a new model version.

``plan`` runs in the request: it checks everything and freezes what will be trained on (the
base rows, each reviewed candidate's key, decision, label and features) into a persisted job,
so the job needs no table and a re-run after a restart trains on exactly the same rows.
``run`` is the job: train, then add the version with its lineage (not promoted).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model_api.core.errors import conflict, invalid, not_found
from model_api.core.lease import Leases
from model_api.datasets.store import DatasetStore
from model_api.models import network
from model_api.models.job_runner import JobRunner
from model_api.models.jobs import Interrupted, JobStore, Progress
from model_api.models.queue import TrainingQueue
from model_api.models.service import VersionService
from model_api.models.store import ACTIVE, KERAS, PREDICTOR, ModelStore
from model_api.models.train import fit_new, frame_digests, training_set_digest
from model_api.retrain.service import RetrainService
from model_api.runs.store import RunStore
from model_api.schema.features import COLUMNS, FEATURE_NAMES, LABEL, parse_csv, unholdable
from model_api.scorelog.queries import RecordReader

KIND = "retrain"
PARAM_KEYS = ("hidden_layers", "epochs", "batch_size", "learning_rate", "validation_split", "seed")


def _decided(item: dict[str, Any]) -> dict[str, Any]:
    review = item["review"]
    label = review["label"] if review["decision"] == "relabel" else item.get("Actual")
    features = item.get("features")
    row = (
        {n: features[n] for n in FEATURE_NAMES}
        if isinstance(features, dict) and all(n in features for n in FEATURE_NAMES)
        else None
    )
    return {
        "partition_key": item["partition_key"],
        "sort_key": item["sort_key"],
        "decision": review["decision"],
        "label": label if review["decision"] != "exclude" else None,
        "actual": item.get("Actual"),
        "suspected_cause": item.get("suspected_cause"),
        "suggested_label": item.get("suggested_label"),
        "reviewer": review.get("reviewer"),
        "reviewed_at": review.get("reviewed_at"),
        "features": row,
    }


def _number(value: Any) -> float:
    plain = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if plain else np.nan


def _check_candidate_values(used: list[dict[str, Any]]) -> None:
    """422 naming the candidates and columns whose values float32 cannot hold (e.g. 1e308, or
    1e309 which the score item's text reads back as inf): the check uploads get, made before
    any job is queued, so the job cannot fail on them later."""
    values = np.array([[_number(c["features"][n]) for n in FEATURE_NAMES] for c in used])
    bad, problems = unholdable(values)
    if not bad.any():
        return
    rows, cols = np.nonzero(bad)
    cells = [
        {
            "partition_key": used[r]["partition_key"],
            "sort_key": used[r]["sort_key"],
            "column": FEATURE_NAMES[c],
        }
        for r, c in zip(rows[:20], cols[:20], strict=True)
    ]
    raise invalid(
        f"some reviewed candidates have feature values {' or '.join(problems)}; exclude them",
        {"cells": cells, "count": int(bad.sum())},
        code="bad_candidates",
    )


class RetrainFlow:
    """Plans retraining jobs and runs them."""

    def __init__(
        self,
        jobs: JobStore,
        models: ModelStore,
        queue: TrainingQueue,
        versions: VersionService,
        datasets: DatasetStore,
        runs: RunStore,
        retrain: RetrainService,
        max_epochs: int,
        *,
        leases: Leases,
        heartbeat_s: float,
    ) -> None:
        self.models, self.versions, self.datasets = models, versions, datasets
        self.runs, self.retrain, self.max_epochs = runs, retrain, max_epochs
        self.jobs = jobs
        self.queue = queue
        self.runner = JobRunner(self.jobs, queue.submit, {KIND: self.run}, leases, heartbeat_s)

    def refuse_if_running(self, model_id: int) -> None:
        """409 ``retrain_running`` while a retraining job of the model is queued or running:
        a plain training (``POST /api/models/{id}/train``, the course's ``PUT``) is refused as a
        second retraining is, not queued behind it."""
        running = self.jobs.active_for(model_id, KIND)
        if running is not None:
            raise conflict(
                "retrain_running",
                f"a retraining of model {model_id} is already {running['status']} "
                f"(job {running['job_id']}); wait for it",
                {"job_id": running["job_id"]},
            )

    def _refuse_if_busy(self, model_id: int) -> None:
        model = self.models.get(model_id)
        if model["status"] in ACTIVE:
            raise conflict("model_busy", f"model {model_id} is {model['status']}; wait for it")
        self.refuse_if_running(model_id)

    async def plan(self, reader: RecordReader, model_id: int, body: Any) -> dict[str, Any]:
        model = self.models.get(model_id)
        self.queue.check()  # a full queue refuses before reading any table
        self._refuse_if_busy(model_id)
        parent = body.parent_version or self.versions.store.promoted(model_id)
        if parent is None:
            raise conflict("model_not_ready", f"model {model_id} has no trained version yet")
        parent_rec = self.versions.get(model_id, parent)
        base_id = (
            body.base_dataset_id
            if body.base_dataset_id is not None
            else parent_rec["base_dataset_id"]
        )
        base = self.datasets.frame(base_id)
        params = {k: parent_rec["params"].get(k) for k in PARAM_KEYS}
        params.update(body.model_dump(include=set(PARAM_KEYS), exclude_none=True))
        if params.get("seed") is None:
            params["seed"] = 0  # a version must be reproducible from its lineage
        if int(params["epochs"]) > self.max_epochs:
            raise invalid(f"epochs must be at most {self.max_epochs}", {"epochs": params["epochs"]})
        candidates: list[dict[str, Any]] = []
        for run_id in body.run_ids:
            if not self.runs.exists(run_id):
                raise not_found("run", run_id)
            run = self.runs.get(run_id)
            if run["model_id"] != model_id:
                raise invalid(
                    f"run {run_id} tested model {run['model_id']}, not model {model_id}",
                    {"run_id": run_id, "model_id": run["model_id"]},
                    code="run_of_other_model",
                )
            items = await self.retrain.all(reader, run_id)
            candidates += [_decided(i) for i in items if i.get("review")]
        used = [c for c in candidates if c["decision"] != "exclude"]
        if not used:
            raise conflict(
                "no_reviewed_candidates",
                "none of the runs' candidates has a relabel or keep decision; review them first "
                "(unreviewed candidates never enter training)",
                {"run_ids": body.run_ids, "reviewed": len(candidates)},
            )
        classes = list(parent_rec.get("classes") or model["classes"])
        unknown = sorted({c["label"] for c in used} - set(classes))
        if unknown or any(c["features"] is None for c in used):
            raise invalid(
                "some reviewed candidates cannot be trained on",
                {"unknown_labels": unknown, "unreadable": sum(c["features"] is None for c in used)},
                code="bad_candidates",
            )
        _check_candidate_values(used)
        payload = {
            "request": body.model_dump(),
            "parent_version": parent,
            "base_dataset_id": base_id,
            "base_csv": base.to_csv(index=False),
            "classes": classes,
            "params": params,
            "weight": body.weight,
            "candidates": candidates,
            "reviewer": body.reviewer,
        }
        with self.queue.slot():  # checked again: the slot may have gone meanwhile
            self._refuse_if_busy(model_id)  # and a plain training may have been queued
            job = self.jobs.create(KIND, model_id, payload)
            self.runner.enqueue(job["job_id"])
        return job

    def run(self, job: dict[str, Any], progress: Progress) -> dict[str, Any]:
        """The job: build the training set, fit, keep the version (idempotent per job)."""
        model_id, plan = job["model_id"], job["payload"]
        done = self.versions.store.by_job(model_id, job["job_id"])
        if done is not None:
            return {"version": done["version"]}
        self.models.get(model_id)  # a deleted model fails the job clearly
        base = parse_csv(plan["base_csv"])
        used = [c for c in plan["candidates"] if c["decision"] != "exclude"]
        extra = pd.DataFrame(
            [{**c["features"], LABEL: c["label"]} for c in used], columns=list(COLUMNS)
        )
        train = pd.concat([base] + [extra] * int(plan["weight"]), ignore_index=True)[list(COLUMNS)]
        params = plan["params"]
        epochs = int(params["epochs"])
        if not progress(stage="training", epoch=0, epochs=epochs, rows=len(train)):
            raise Interrupted

        def on_epoch(epoch: int, logs: dict[str, float]) -> bool:
            return progress(stage="training", epoch=epoch, epochs=epochs, rows=len(train), **logs)

        fitted = fit_new(train, plan["classes"], params, on_epoch)
        if len(fitted.history.get("loss", [])) < epochs:
            raise Interrupted
        if not progress(stage="saving", epoch=epochs, epochs=epochs, rows=len(train)):
            raise Interrupted  # the lease is gone: the new holder keeps the version, not this one
        done = self.versions.store.by_job(model_id, job["job_id"])
        if done is not None:  # a holder before this one kept it just now
            return {"version": done["version"]}
        lineage = {
            "source": "retrain",
            "job_id": job["job_id"],
            "parent_version": plan["parent_version"],
            "base_dataset_id": plan["base_dataset_id"],
            "base_rows": len(base),
            "weight": plan["weight"],
            "candidates": plan["candidates"],
            "candidate_counts": {
                d: sum(c["decision"] == d for c in plan["candidates"])
                for d in ("relabel", "keep", "exclude")
            },
            "training_rows": len(train),
            "training_set_sha256": training_set_digest(train),
            "params": params,
            "classes": plan["classes"],
            "metrics": fitted.metrics,
            "history": fitted.history,
            "reviewer": plan["reviewer"],
        }
        blobs = {KERAS: network.keras_bytes(fitted.model), PREDICTOR: fitted.predictor.to_bytes()}
        made = self.versions.store.add(model_id, blobs, lineage, frame_digests(train))
        return {"version": made["version"], "metrics": fitted.metrics}
