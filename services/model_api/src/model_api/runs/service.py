"""The batch-test use case: test a version on a data set, store the run, hand its records to
the score log (durable before the response); re-test a run on its exact rows; read runs with
their live ``logging`` and ``flagged`` count."""

from __future__ import annotations

import logging
from typing import Any

from model_api.core.errors import conflict, insufficient_storage, invalid, too_busy
from model_api.core.observability import BATCH_TEST_ROWS, BATCH_TESTS
from model_api.datasets.store import DatasetStore
from model_api.models.service import VersionService
from model_api.runs.batch_test import BatchTestResult, run_batch_test
from model_api.runs.flagged import FlaggedCounter
from model_api.runs.store import RunStore
from model_api.scorelog.queries import RecordReader
from model_api.scorelog.service import RunTooLarge, ScoreLog, ScoreLogBusy, ScoreLogFull

log = logging.getLogger(__name__)

DISABLED_LOG = {"total": 0, "written": 0, "pending": 0, "failed": 0, "state": "disabled"}


def table_reader(scorelog: ScoreLog | None) -> RecordReader | None:
    """Reads of the score and retrain tables, or None while the score log is not running."""
    if scorelog is None or scorelog.client is None:
        return None
    return scorelog.reader()


class RunService:
    """Batch tests and reads of runs."""

    def __init__(
        self,
        runs: RunStore,
        versions: VersionService,
        datasets: DatasetStore,
        scorelog: ScoreLog | None,
        flagged: FlaggedCounter,
    ) -> None:
        self.runs, self.versions, self.datasets = runs, versions, datasets
        self.scorelog, self.flagged = scorelog, flagged

    async def summary(self, run_id: str) -> dict[str, Any]:
        """A run's summary with its live ``logging`` and its ``flagged`` count."""
        run = self.runs.get(run_id)
        await self.flagged.annotate(table_reader(self.scorelog), [run])
        return run

    async def summaries(self, model_id: int | None, limit: int, offset: int) -> dict[str, Any]:
        page = self.runs.list(model_id, limit, offset)
        await self.flagged.annotate(table_reader(self.scorelog), page["items"])
        return page

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
        result = run_batch_test(
            run_id=self.runs.new_id(),
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

    async def retest(self, run_id: str, version: int | None) -> dict[str, Any]:
        """Test the run's model again on the run's exact rows: same data set, same ``seed`` and
        ``flip_fraction`` (so the same labels flipped), with a chosen or the promoted version."""
        run = self.runs.get(run_id)
        if run.get("seed") is None and run["flip_fraction"] > 0:
            raise conflict(
                "not_reproducible",
                f"run {run_id} flipped labels without a stored seed (an old run)",
            )
        again = await self.batch_test(
            run["model_id"], run["dataset_id"], run["flip_fraction"], run.get("seed"), version
        )
        again["retest_of"] = run_id
        self.runs.save(again)
        return again

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
