"""The durable outbox: every score-table item waits here until DynamoDB has accepted it.

``submit`` commits a run's items in one SQLite transaction (WAL, fsynced: ``synchronous=FULL``)
before the HTTP response goes out, so a crash or restart of model_api never loses a record; the
writer deletes an item only after DynamoDB accepted it (a crash in between re-sends it, which
rewrites the same key: idempotent). Those deletes commit with ``synchronous=NORMAL`` (no fsync
each time): losing one to a power cut only means a harmless re-send. Per-run counters make
``status`` one primary-key lookup.

Methods are synchronous and not thread-safe for writing: the service calls the write methods
from one dedicated thread; ``counts``/``pending_total`` use their own read connection (WAL lets
readers run while a write transaction is open).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from iris_common.clock import parse_iso, utc_now

FILE_NAME = "scorelog.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    total INTEGER NOT NULL,
    written INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    submitted_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the writer feeds by id order
    run_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    item TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,  -- 0 pending, 1 failed (written items are deleted)
    error TEXT,
    UNIQUE (run_id, position)
);
CREATE INDEX IF NOT EXISTS items_pending ON items (id) WHERE state = 0;
"""

PENDING, FAILED = 0, 1


class RunAlreadySubmitted(ValueError):
    """A run id is in the outbox already: run ids must be unique
    (see ``model_api.runs.store.new_run_id``)."""


@dataclass(frozen=True)
class Pending:
    """One item waiting to be written."""

    id: int
    run_id: str
    item_json: str


@dataclass(frozen=True)
class RunCounts:
    total: int
    written: int
    failed: int

    @property
    def pending(self) -> int:
        return self.total - self.written - self.failed


def _connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=30, check_same_thread=check_same_thread
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _rollback(db: sqlite3.Connection) -> None:
    """Undo an open transaction; SQLite may have rolled back already (e.g. on SQLITE_FULL), and
    a second ROLLBACK would raise and hide the original error."""
    if db.in_transaction:
        db.execute("ROLLBACK")


class Outbox:
    """The SQLite file ``<data_dir>/scorelog.sqlite3``."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / FILE_NAME
        self._db = _connect(self.path, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._read = _connect(self.path, check_same_thread=False)
        self._read_lock = threading.Lock()

    def close(self) -> None:
        self._db.close()
        with self._read_lock:
            self._read.close()

    # --- writes (one thread) ---

    def add_run(self, run_id: str, items: Sequence[tuple[int, str]]) -> None:
        """Store all items of a run atomically: either every record is durable or none is."""
        db = self._db
        db.execute("PRAGMA synchronous=FULL")  # a submitted run survives even a power cut
        db.execute("BEGIN IMMEDIATE")
        try:
            try:
                db.execute(
                    "INSERT INTO runs (run_id, total, submitted_at) VALUES (?, ?, ?)",
                    (run_id, len(items), utc_now("microseconds")),
                )
            except sqlite3.IntegrityError as exc:
                raise RunAlreadySubmitted(f"run {run_id} was already submitted") from exc
            db.executemany(
                "INSERT INTO items (run_id, position, item) VALUES (?, ?, ?)",
                ((run_id, position, text) for position, text in items),
            )
            db.execute("COMMIT")  # inside the try: a full disk can refuse the commit itself
        except BaseException:
            _rollback(db)
            raise
        finally:
            db.execute("PRAGMA synchronous=NORMAL")

    def remove_run(self, run_id: str) -> None:
        """Forget a run just added whose id turned out to be another replica's (shared stage)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM items WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    def pending_runs(self) -> list[str]:
        """Runs with records still pending (to share them with the other replicas)."""
        rows = self._db.execute(
            "SELECT run_id FROM runs WHERE total > written + failed ORDER BY run_id"
        ).fetchall()
        return [r[0] for r in rows]

    def pending_items(self, run_id: str) -> list[tuple[int, str]]:
        """A run's pending items as ``(position, item JSON)``, in position order."""
        rows = self._db.execute(
            "SELECT position, item FROM items WHERE run_id = ? AND state = 0 ORDER BY position",
            (run_id,),
        ).fetchall()
        return [(int(p), str(t)) for p, t in rows]

    def fetch_pending(self, after_id: int, limit: int) -> list[Pending]:
        """Pending items in submission order, after the last one already handed to the writer."""
        rows = self._db.execute(
            "SELECT id, run_id, item FROM items WHERE state = 0 AND id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [Pending(*r) for r in rows]

    def mark_written(self, ids: Iterable[int]) -> Counter[str]:
        """Forget items DynamoDB accepted; returns how many per run (already-gone ids ignored)."""
        return self._settle(ids, None)

    def mark_failed(self, failures: Iterable[tuple[int, str]]) -> Counter[str]:
        """Keep permanently rejected items with the reason, out of the queue."""
        reasons = dict(failures)
        return self._settle(list(reasons), reasons)

    def _settle(self, ids: Iterable[int], errors: dict[int, str] | None) -> Counter[str]:
        id_list = list(ids)
        per_run: Counter[str] = Counter()
        if not id_list:
            return per_run
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                marks = ",".join("?" * len(chunk))
                if errors is None:
                    sql = f"DELETE FROM items WHERE state = 0 AND id IN ({marks}) RETURNING run_id"
                    rows = db.execute(sql, chunk).fetchall()
                else:
                    rows = []
                    for ident in chunk:
                        rows += db.execute(
                            "UPDATE items SET state = 1, error = ? WHERE id = ? AND state = 0 "
                            "RETURNING run_id",
                            (errors[ident], ident),
                        ).fetchall()
                per_run.update(r[0] for r in rows)
            column = "written" if errors is None else "failed"
            db.executemany(
                f"UPDATE runs SET {column} = {column} + ? WHERE run_id = ?",
                [(n, run_id) for run_id, n in per_run.items()],
            )
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise
        return per_run

    # --- reads (any thread) ---

    def counts(self, run_id: str) -> RunCounts | None:
        with self._read_lock:
            row = self._read.execute(
                "SELECT total, written, failed FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return RunCounts(*row) if row else None

    def pending_total(self) -> int:
        with self._read_lock:
            (n,) = self._read.execute("SELECT count(*) FROM items WHERE state = 0").fetchone()
        return int(n)

    def totals(self) -> dict[str, float]:
        """Records submitted / written / failed / pending over every run, and the age in seconds
        of the oldest run still pending (for /metrics)."""
        with self._read_lock:
            submitted, written, failed = self._read.execute(
                "SELECT coalesce(sum(total), 0), coalesce(sum(written), 0), "
                "coalesce(sum(failed), 0) FROM runs"
            ).fetchone()
            (oldest,) = self._read.execute(
                "SELECT min(submitted_at) FROM runs WHERE total > written + failed"
            ).fetchone()
        age = (datetime.now(UTC) - parse_iso(oldest)).total_seconds() if oldest else 0
        return {
            "submitted": submitted,
            "written": written,
            "failed": failed,
            "pending": submitted - written - failed,
            "oldest_pending_age_s": max(age, 0.0),
        }

    def failures(self, run_id: str, limit: int = 20) -> list[dict[str, object]]:
        """Why items of a run were rejected (for the status details)."""
        with self._read_lock:
            rows = self._read.execute(
                "SELECT position, error FROM items WHERE run_id = ? AND state = 1 "
                "ORDER BY position LIMIT ?",
                (run_id, limit),
            ).fetchall()
        return [{"position": p, "error": e} for p, e in rows]
