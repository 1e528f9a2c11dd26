"""Batch-test runs: summaries in the registry, each whole run an object in the object store.

The run's object holds the per-row lists too, so a run can be reread by any replica; listings
return summaries (the run without its per-row lists). A run's ``logging`` is read live from the
score log (its outbox is durable), so it is current without rewriting run files.
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from iris_common.clock import utc_now

from model_api.core.documents import put_doc
from model_api.core.errors import not_found
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.core.registry import ConditionFailed, Registry
from model_api.models.store import finite
from model_api.scorelog.service import COMPLETE, FAILED

log = logging.getLogger(__name__)

FINAL = (COMPLETE, FAILED)  # the score log's states once no record is pending
ROW_LISTS = ("actual", "predicted", "probability", "flipped")
KIND = "run"
ID_KIND = "run_id"  # ids handed out, whether or not their run was saved
LogStatus = Callable[[str], dict[str, Any]]


_run_id_lock = threading.Lock()
_run_id_stamp = ""
_run_id_used: set[str] = set()


def new_run_id(now: datetime | None = None) -> str:
    """A run id sortable by time and unique (``20261125T031509123Z-7f3a``).

    The suffix is random, and within one process a suffix is never reused in the same
    millisecond, so two runs created in the same millisecond never share a partition key (the
    seed keyed by time of day and lost records that way). Across replicas, ids are minted by
    :meth:`RunStore.new_id` (a conditional put in the registry), never handed out twice.
    """
    global _run_id_stamp
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = f"{moment:%Y%m%dT%H%M%S}{moment.microsecond // 1000:03d}Z"
    with _run_id_lock:
        if stamp != _run_id_stamp:
            _run_id_stamp = stamp
            _run_id_used.clear()
        while True:
            suffix = secrets.token_hex(2)
            if suffix not in _run_id_used:
                _run_id_used.add(suffix)
                return f"{stamp}-{suffix}"


def summary(run: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in run.items() if k not in ROW_LISTS}


class RunStore:
    """Runs shared by every replica: each run's summary a registry item (``pk="run"``, sorted by
    run id, i.e. by time), the whole run with its per-row lists an object
    (``runs/<run_id>.json``: a run's lists are too big for an item), written first."""

    def __init__(
        self, registry: Registry, objects: ObjectStore, status: LogStatus | None = None
    ) -> None:
        self.registry = registry
        self.objects = objects
        self._status = status

    def new_id(self) -> str:
        """A fresh run id (``new_run_id``) minted in the registry: a conditional put of
        ``pk="run_id"``, ``sk=<id>`` (attribute_not_exists), so no two replicas ever hand out
        the same id (a clash, or an id a stored run has, draws another)."""
        while True:
            run_id = new_run_id()
            if self.exists(run_id):
                continue
            try:
                self.registry.put_new(ID_KIND, run_id, {"minted_at": utc_now()})
            except ConditionFailed:
                continue
            return run_id

    def exists(self, run_id: str) -> bool:
        return self.registry.get(KIND, run_id) is not None

    def save(self, run: dict[str, Any]) -> None:
        body = json.dumps(run, separators=(",", ":")).encode()
        self.objects.put(_key(run["run_id"]), body)
        put_doc(self.registry, KIND, run["run_id"], finite(summary(run)))
        if self._status is not None:  # written to the end before the summary was saved
            self.record_logging(run["run_id"], self._status(run["run_id"]))

    def record_logging(self, run_id: str, status: dict[str, Any]) -> None:
        """Keep a run's final ``logging`` on its item (attribute ``logging``, beside ``doc``):
        the replica that wrote the run calls this when done, so a replica whose outbox never
        held the run answers the final counts instead of the ones at submission."""
        if status.get("state") not in FINAL:
            return
        try:
            self.registry.update(
                KIND,
                run_id,
                set={"logging": json.dumps(status, separators=(",", ":"))},
                condition="attribute_exists(pk)",
            )
        except ConditionFailed:  # not saved yet: save() records it
            pass
        except Exception as exc:  # the writer's replica still answers it live
            log.warning("could not record the final logging of run %s: %s", run_id, exc)

    def _live(self, item: Mapping[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
        """The item's run with its current ``logging``; ``doc``: the item's ``doc`` if already
        parsed (a listing filtered by model parses every item's to filter them)."""
        out = json.loads(item["doc"]) if doc is None else doc
        if out.get("logging", {}).get("state") == "disabled":
            return out
        status = self._status(out["run_id"]) if self._status is not None else None
        if status is not None and status.get("state") != "unknown":
            out["logging"] = status
        elif item.get("logging"):
            out["logging"] = json.loads(item["logging"])
        return out

    def get(self, run_id: str) -> dict[str, Any]:
        item = self.registry.get(KIND, run_id)
        if item is None:
            raise not_found("run", run_id)
        return self._live(item)

    def full(self, run_id: str) -> dict[str, Any]:
        """The run with its per-row lists (read from its object)."""
        self.get(run_id)
        try:
            return json.loads(self.objects.get(_key(run_id)))
        except ObjectMissing as exc:
            raise missing_blob(f"run {run_id}", _key(run_id)) from exc

    def list(self, model_id: int | None, limit: int, offset: int) -> dict[str, Any]:
        """Newest first; filtered by model, each item's ``doc`` is parsed once (the filter's
        parse is the one ``_live`` uses), unfiltered only the page's are."""
        items = [item for _, item in self.registry.query(KIND, descending=True)]
        runs: list[tuple[Mapping[str, Any], dict[str, Any] | None]]
        if model_id is None:
            runs = [(item, None) for item in items]
        else:
            parsed = ((item, json.loads(item["doc"])) for item in items)
            runs = [(item, doc) for item, doc in parsed if doc["model_id"] == model_id]
        page = runs[offset : offset + limit]
        return {"items": [self._live(item, doc) for item, doc in page], "total": len(runs)}


def _key(run_id: str) -> str:
    return f"runs/{run_id}.json"
