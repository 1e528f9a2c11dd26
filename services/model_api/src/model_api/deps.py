"""The one root for dependencies: the service's parts wired together (``Services``, one per app)
and ``ServicesDep``, how a route gets them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from model_api.config import ApiSettings
from model_api.core.lease import Leases
from model_api.core.objects import ObjectStore
from model_api.core.registry import Registry
from model_api.datasets.store import DatasetStore
from model_api.models.claims import JobClaims
from model_api.models.jobs import JobStore
from model_api.models.queue import TrainingQueue
from model_api.models.service import VersionService
from model_api.models.store import ModelStore
from model_api.models.training import Trainer
from model_api.retrain.flows import RetrainFlow
from model_api.retrain.service import RetrainService
from model_api.runs.flagged import FlaggedCounter
from model_api.runs.service import RunService, table_reader
from model_api.runs.store import RunStore
from model_api.scorelog.queries import RecordReader
from model_api.scorelog.service import ScoreLog
from model_api.scorelog.shared import SharedOutbox


def open_registry(settings: ApiSettings) -> Registry:
    """The registry table on the configured endpoint; a clear error if it is not there."""
    registry = Registry.connect(
        settings.registry_table, settings.aws_endpoint_url, settings.aws_region
    )
    try:
        registry.describe()
    except Exception as exc:
        where = settings.aws_endpoint_url or f"AWS ({settings.aws_region})"
        raise RuntimeError(
            f"the registry table {settings.registry_table!r} is not reachable at {where}: {exc}. "
            "Provision it (iris-provision up, or make run) or set IRIS_REGISTRY_TABLE."
        ) from exc
    return registry


@dataclass
class Services:
    """Everything a request handler needs; one instance per app."""

    settings: ApiSettings
    objects: ObjectStore
    registry: Registry  # the replicas' shared state (IRIS_REGISTRY_TABLE)
    leases: Leases  # this replica's leases in it
    datasets: DatasetStore
    models: ModelStore
    training: TrainingQueue
    trainer: Trainer
    runs: RunStore
    tests: RunService
    scorelog: ScoreLog | None  # None when IRIS_SCORELOG_ENABLED=false
    retrain: RetrainService
    versions: VersionService
    flow: RetrainFlow

    @classmethod
    def build(cls, settings: ApiSettings) -> Services:
        # the local working folder (readiness checks it is writable), even when every record
        # lives in the registry and the object store elsewhere
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        objects = ObjectStore(
            settings.object_store_url, settings.aws_endpoint_url, settings.aws_region
        )
        registry = open_registry(settings)
        leases = Leases(registry, settings.replica_id, settings.lease_seconds)
        datasets = DatasetStore(registry, objects)
        scorelog = None
        if settings.scorelog_enabled:
            scorelog = ScoreLog(
                settings.data_dir,
                settings.score_table,
                retrain_table=settings.retrain_table,
                endpoint_url=settings.aws_endpoint_url,
                region=settings.aws_region,
                concurrency=settings.scorelog_concurrency,
                max_pending=settings.scorelog_max_pending,
                shared=SharedOutbox(registry, leases),
                heartbeat_s=settings.heartbeat_seconds,
            )
        models = ModelStore(registry, objects)
        models.interrupted()
        training = TrainingQueue(settings.max_queued_training_jobs)
        trainer = Trainer(models, training, datasets, settings.max_epochs)
        trainer.claims = JobClaims(models, leases, settings.heartbeat_seconds)
        runs = RunStore(registry, objects, status=scorelog.status if scorelog else None)
        if scorelog is not None:
            scorelog.on_run_finished(runs.record_logging)
        versions = VersionService(
            registry, models, datasets, objects, settings.scoring_cache_seconds
        )
        trainer.on_trained = versions.record_training
        retrain = RetrainService(runs, models, settings.retrain_table)
        flow = RetrainFlow(
            JobStore(registry, objects),
            models,
            training,
            versions,
            datasets,
            runs,
            retrain,
            settings.max_epochs,
            leases=leases,
            heartbeat_s=settings.heartbeat_seconds,
        )
        trainer.before_training = flow.refuse_if_running
        tests = RunService(
            runs, versions, datasets, scorelog, FlaggedCounter(settings.flagged_settle_seconds)
        )
        return cls(
            settings=settings,
            objects=objects,
            registry=registry,
            leases=leases,
            datasets=datasets,
            models=models,
            training=training,
            trainer=trainer,
            runs=runs,
            tests=tests,
            scorelog=scorelog,
            retrain=retrain,
            versions=versions,
            flow=flow,
        )

    @property
    def dynamodb(self) -> Any:
        """The shared aioboto3 DynamoDB client, or None (score log disabled or not started)."""
        return self.scorelog.client if self.scorelog else None

    @property
    def reader(self) -> RecordReader | None:
        """Reads of the score and retrain tables, or None while the score log is not running."""
        return table_reader(self.scorelog)

    async def start(self) -> None:
        if self.scorelog is not None:
            await self.scorelog.start()
        self.flow.runner.start()  # jobs left queued or cut off by a restart run again
        self.trainer.start()  # and models' jobs whose replica stopped, this one's or another's

    async def stop(self) -> None:
        """Drain the score log (bounded; the rest stays durable in its outbox), stop training."""
        if self.scorelog is not None:
            await self.scorelog.stop(timeout=self.settings.scorelog_drain_seconds)
        self.flow.runner.stop()
        self.trainer.stop()
        self.training.shutdown()


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
