"""Whether the score log takes a run: all of it or none of it, and why not.

``ScoreLog.submit`` answers before DynamoDB has seen a record, so the outbox is the one place a
run can be refused. These rules live apart from the writer's lifecycle so that what a client
sees as 429 (``ScoreLogBusy``), 422 (``RunTooLarge``) or 507 (``ScoreLogFull``) reads in one
place (``runs.service`` maps them). ``admit`` runs on the outbox's one writing thread, so no
other submit slips in between its check and the write it guards.
"""

from __future__ import annotations

import errno
import math
import sqlite3

from model_api.scorelog.outbox import Outbox

WRITE_RATE = 500  # records/s the writer sustains at least (650-850 measured): for Retry-After


class ScoreLogFull(RuntimeError):
    """The outbox could not store a run because the disk (or quota) is full; nothing stored."""


class ScoreLogBusy(RuntimeError):
    """Taking the run would put more than ``max_pending`` records in the outbox; nothing stored.

    ``retry_after`` estimates the seconds until the writer has made room for it.
    """

    def __init__(self, pending: int, incoming: int, limit: int) -> None:
        super().__init__(
            f"{pending} score log records are still pending; {incoming} more would exceed the "
            f"limit of {limit}"
        )
        self.pending, self.incoming, self.limit = pending, incoming, limit
        self.retry_after = min(300, max(1, math.ceil((pending + incoming - limit) / WRITE_RATE)))


class RunTooLarge(ValueError):
    """A run with more records than ``max_pending``: it could never be accepted."""


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _check_room(outbox: Outbox, incoming: int, max_pending: int | None) -> None:
    """Raise ``RunTooLarge`` or ``ScoreLogBusy`` unless ``incoming`` more records fit the bound
    (``None``: unbounded)."""
    if max_pending is None:
        return
    if incoming > max_pending:
        raise RunTooLarge(
            f"a run of {incoming} records exceeds the score log's limit of "
            f"{max_pending} pending records"
        )
    pending = outbox.pending_total()
    if pending + incoming > max_pending:
        raise ScoreLogBusy(pending, incoming, max_pending)


def _add_run(outbox: Outbox, run_id: str, encoded: list[tuple[int, str]]) -> None:
    """``outbox.add_run``, a full disk raised as ``ScoreLogFull`` (the outbox then holds nothing
    of the run: one SQLite transaction)."""
    try:
        outbox.add_run(run_id, encoded)
    except (sqlite3.OperationalError, OSError) as exc:
        if _disk_full(exc):
            raise ScoreLogFull(f"the score log cannot store the run: {exc}") from exc
        raise


def admit(
    outbox: Outbox, run_id: str, encoded: list[tuple[int, str]], max_pending: int | None
) -> None:
    """Store the run's encoded records in ``outbox`` if the bound allows, else raise (one of the
    three errors above) with nothing of the run stored."""
    _check_room(outbox, len(encoded), max_pending)
    _add_run(outbox, run_id, encoded)
