"""Durable per-shard checkpoints: the last sequence number fully handled, and closed-shard done.

One small JSON file, rewritten atomically (temp file, fsync, rename) after every batch, so a crash
at any instant leaves either the old or the new checkpoint, never a torn one. The checkpoint is
only advanced after the batch's records were written or sent to the on-failure destination: a
restart redelivers at most one batch (at-least-once), never skips one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iris_common.clock import utc_now


class RunnerLocked(RuntimeError):
    """Another runner already works on this data directory."""


@contextlib.contextmanager
def data_dir_lock(esm_dir: Path) -> Iterator[None]:
    """One runner per data dir: two would fight over the checkpoint file."""
    esm_dir.mkdir(parents=True, exist_ok=True)
    with open(esm_dir / "runner.lock", "a") as lock_file:
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunnerLocked(f"another event source mapping runner uses {esm_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class ShardCheckpoint:
    """Resume after ``sequence_number``; ``done`` once a closed shard is fully read."""

    sequence_number: str | None
    done: bool = False


class CheckpointStore:
    """Thread-safe checkpoint file shared by the shard workers of one runner."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "streams": {}}
        if not isinstance(data, dict) or not isinstance(data.get("streams"), dict):
            raise ValueError(f"{self.path} is not a checkpoint file")
        return data

    def get(self, stream_arn: str, shard_id: str) -> ShardCheckpoint | None:
        with self._lock:
            entry = self._data["streams"].get(stream_arn, {}).get(shard_id)
        if entry is None:
            return None
        return ShardCheckpoint(entry.get("sequence_number"), bool(entry.get("done", False)))

    def has_stream(self, stream_arn: str) -> bool:
        """Whether this stream was ever checkpointed (the mapping ran on it before)."""
        with self._lock:
            return bool(self._data["streams"].get(stream_arn))

    def is_done(self, stream_arn: str, shard_id: str) -> bool:
        cp = self.get(stream_arn, shard_id)
        return cp is not None and cp.done

    def save(
        self, stream_arn: str, shard_id: str, sequence_number: str | None, done: bool = False
    ) -> None:
        """Record progress on a shard and persist it before returning."""
        with self._lock:
            shards = self._data["streams"].setdefault(stream_arn, {})
            previous = shards.get(shard_id, {})
            shards[shard_id] = {
                "sequence_number": sequence_number or previous.get("sequence_number"),
                "done": done,
                "updated_at": utc_now(),
            }
            self._write()

    def forget_missing(self, stream_arn: str, live_shard_ids: set[str]) -> None:
        """Drop done shards that the stream no longer lists (trimmed after 24 h)."""
        with self._lock:
            shards = self._data["streams"].get(stream_arn, {})
            stale = [s for s, e in shards.items() if e.get("done") and s not in live_shard_ids]
            for shard_id in stale:
                del shards[shard_id]
            if stale:
                self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self._data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):  # make the rename itself durable where supported
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
