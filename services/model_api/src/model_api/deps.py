"""The one root for dependencies: the service's parts wired together (``Services``, one per app)
and ``ServicesDep``, how a route gets them; plus the batch-test flow that spans several parts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from model_api.config import ApiSettings
from model_api.core.errors import insufficient_storage, invalid, too_busy
from model_api.core.observability import BATCH_TEST_ROWS, BATCH_TESTS
from model_api.datasets.store import DatasetStore
from model_api.models.registry import ModelRegistry
from model_api.models.service import VersionService
from model_api.retrain.flows import RetrainFlow
from model_api.retrain.service import RetrainService
from model_api.runs.batch_test import BatchTestResult, run_batch_test
from model_api.runs.flagged import FlaggedCounter
from model_api.runs.store import RunStore
from model_api.scorelog.items import new_run_id
from model_api.scorelog.queries import RecordReader
from model_api.scorelog.service import RunTooLarge, ScoreLog, ScoreLogBusy, ScoreLogFull

log = logging.getLogger(__name__)

DISABLED_LOG = {"total": 0, "written": 0, "pending": 0, "failed": 0, "state": "disabled"}


@dataclass
class Services:
    """Everything a request handler needs; one instance per app."""

    settings: ApiSettings
    datasets: DatasetStore
    models: ModelRegistry
    runs: RunStore
    scorelog: ScoreLog | None  # None when IRIS_SCORELOG_ENABLED=false
    flagged: FlaggedCounter
    retrain: RetrainService
    versions: VersionService
    flow: RetrainFlow

    @classmethod
    def build(cls, settings: ApiSettings) -> Services:
        root = settings.store_dir
        datasets = DatasetStore(root / "datasets")
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
            )
        models = ModelRegistry(
            root / "models",
            datasets,
            settings.max_epochs,
            max_queued=settings.max_queued_training_jobs,
        )
        runs = RunStore(root / "runs", status=scorelog.status if scorelog else None)
        versions = VersionService(root / "models", models, datasets)
        retrain = RetrainService(runs, models, settings.retrain_table)
        return cls(
            settings=settings,
            datasets=datasets,
            models=models,
            runs=runs,
            scorelog=scorelog,
            flagged=FlaggedCounter(settings.flagged_settle_seconds),
            retrain=retrain,
            versions=versions,
            flow=RetrainFlow(
                root / "jobs", models, versions, datasets, runs, retrain, settings.max_epochs
            ),
        )

    @property
    def dynamodb(self) -> Any:
        """The shared aioboto3 DynamoDB client, or None (score log disabled or not started)."""
        return self.scorelog.client if self.scorelog else None

    @property
    def reader(self) -> RecordReader | None:
        """Reads of the score and retrain tables, or None while the score log is not running."""
        if self.scorelog is None or self.scorelog.client is None:
            return None
        return self.scorelog.reader()

    async def run_summary(self, run_id: str) -> dict[str, Any]:
        """A run's summary with its live ``logging`` and its ``flagged`` count."""
        run = self.runs.get(run_id)
        await self.flagged.annotate(self.reader, [run])
        return run

    async def run_summaries(self, model_id: int | None, limit: int, offset: int) -> dict[str, Any]:
        page = self.runs.list(model_id, limit, offset)
        await self.flagged.annotate(self.reader, page["items"])
        return page

    async def start(self) -> None:
        if self.scorelog is not None:
            await self.scorelog.start()
        self.flow.runner.start()  # jobs left queued or cut off by a restart run again

    async def stop(self) -> None:
        """Drain the score log (bounded; the rest stays durable in its outbox), stop training."""
        if self.scorelog is not None:
            await self.scorelog.stop(timeout=self.settings.scorelog_drain_seconds)
        self.flow.runner.stop()
        self.models.shutdown()

    async def batch_test(
        self,
        model_id: int,
        dataset_id: int,
        flip_fraction: float,
        seed: int | None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Run a batch test (the promoted version unless one is named), store the run and
        hand its records to the score log."""
        predictor, classes, version = self.versions.predictor(model_id, version)
        df = self.datasets.frame(dataset_id)
        run_id = new_run_id()
        while self.runs.exists(run_id):
            run_id = new_run_id()
        result = run_batch_test(
            run_id=run_id,
            model_id=model_id,
            dataset_id=dataset_id,
            df=df,
            predictor=predictor,
            classes=classes,
            flip_fraction=flip_fraction,
            seed=seed,
        )
        run = result.run
        run.update(flagged=None, flagged_share=None)  # counted once the flagger has run
        run["model_version"] = version
        BATCH_TESTS.inc()
        BATCH_TEST_ROWS.inc(len(result.rows))
        if self.scorelog is not None:
            # Durable before the response: a crash after this still writes every record.
            run["logging"] = await self._submit(result)
        else:
            run["logging"] = dict(DISABLED_LOG)
        self.runs.save(run)
        return run

    async def _submit(self, result: BatchTestResult) -> dict[str, Any]:
        """Hand a run's records to the score log; its refusals become the API's errors (the run
        is then not saved: no run without its records)."""
        assert self.scorelog is not None
        try:
            return await self.scorelog.submit(result.info, result.rows)
        except ScoreLogBusy as exc:
            raise too_busy(
                "score_log_busy",
                f"the score log is busy: {exc}; try again later",
                exc.retry_after,
                {"pending": exc.pending, "incoming": exc.incoming, "limit": exc.limit},
            ) from exc
        except RunTooLarge as exc:
            raise invalid(str(exc), code="run_too_large") from exc
        except ScoreLogFull as exc:
            log.error("%s", exc)
            raise insufficient_storage(f"{exc}; free disk space and try again") from exc


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
