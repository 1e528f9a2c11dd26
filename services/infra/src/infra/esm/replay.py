"""Replay the on-failure destination: invoke the function again on records that never succeeded.

After the cause is fixed (a bad threshold, a missing table, a code bug), ``python -m infra.esm
replay`` sends the failed records through the same handler; the ones that succeed leave the file,
the others stay (with their attempts counted). Caveat, as with any DLQ redrive: a replayed record
is older than anything the stream delivered since, so for a key that was modified later the retrain
item may be rewritten with the older image.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from infra.esm.destination import FailureDestination
from infra.esm.invoker import Handler, InvalidResponse, LocalContext
from infra.esm.logs import log


@dataclass(frozen=True)
class ReplayReport:
    replayed: int
    succeeded: int
    still_failing: int
    not_replayable: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _replayable(message: dict[str, Any]) -> bool:
    """Records the function may handle now: a stream record with its new image."""
    record = message.get("record")
    return isinstance(record, dict) and isinstance(record.get("dynamodb", {}).get("NewImage"), dict)


def _failed_ids(records: list[dict[str, Any]], result: Any) -> set[str]:
    seqs = {r["dynamodb"].get("SequenceNumber") for r in records}
    if result is None:
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not isinstance(result, dict) or not isinstance(failures, (list, type(None))):
        raise InvalidResponse("unreadable response")
    failed = {f.get("itemIdentifier") for f in failures or [] if isinstance(f, dict)}
    if not failed <= seqs or len(failed) < len(failures or []):
        raise InvalidResponse("response names records outside the batch")
    return {str(i) for i in failed}


def replay_failures(
    destination: FailureDestination, handler: Handler, function_name: str, batch_size: int = 100
) -> ReplayReport:
    """Invoke ``handler`` on every replayable record in ``destination``; keep only the failures."""
    with destination.locked():
        messages = destination.read_all()
        keep = [m for m in messages if not _replayable(m)]
        todo = [m for m in messages if _replayable(m)]
        still: list[dict[str, Any]] = []
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            records = [m["record"] for m in chunk]
            context = LocalContext(function_name, str(uuid.uuid4()))
            try:
                failed = _failed_ids(records, handler({"Records": records}, context))
            except Exception as exc:  # the whole chunk failed again
                log(logging.WARNING, "replay batch failed", error=str(exc), records=len(chunk))
                failed = {r["dynamodb"].get("SequenceNumber") for r in records}
            for message in chunk:
                if message["record"]["dynamodb"].get("SequenceNumber") in failed:
                    still.append(message | {"attempts": int(message.get("attempts", 0)) + 1})
        destination.rewrite(keep + still)
    report = ReplayReport(
        replayed=len(todo),
        succeeded=len(todo) - len(still),
        still_failing=len(still),
        not_replayable=len(keep),
    )
    log(logging.INFO, "replay finished", **report.as_dict())
    return report
