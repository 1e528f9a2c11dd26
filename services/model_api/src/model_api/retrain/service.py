"""The retrain candidates' reads and reviews, over the retrain and score tables."""

from __future__ import annotations

from typing import Any

from model_api.core.errors import ApiError, invalid, not_found
from model_api.models.store import ModelStore
from model_api.retrain.candidates import Triager, annotate, fetch_candidates, key_of
from model_api.retrain.reviews import get_item, review_record, store_review
from model_api.retrain.schemas import ReviewRequest
from model_api.retrain.triage import RunTriage
from model_api.runs.store import RunStore
from model_api.scorelog.queries import RecordReader, to_json


class Filters:
    """Post-read filters of ``GET /api/retrain`` (the table is keyed by run only)."""

    def __init__(
        self,
        cause: str | None = None,
        reviewed: bool | None = None,
        reason: str | None = None,
        actual: str | None = None,
    ) -> None:
        self.cause, self.reviewed, self.reason, self.actual = cause, reviewed, reason, actual

    def keep(self, item: dict[str, Any]) -> bool:
        if self.cause is not None and item["suspected_cause"] != self.cause:
            return False
        if self.reviewed is not None and (item["review"] is not None) != self.reviewed:
            return False
        if self.reason is not None and self.reason not in (item.get("reasons") or []):
            return False
        return self.actual is None or item.get("Actual") == self.actual


class RetrainService:
    """Candidates with triage and review; reviews written on the candidates' items."""

    def __init__(self, runs: RunStore, models: ModelStore, table: str | None) -> None:
        self.runs = runs
        self.models = models
        self.table = table
        self.triager = Triager()

    async def _triage(self, reader: RecordReader, run_id: str) -> RunTriage:
        classes, rows = None, None
        if self.runs.exists(run_id):
            run = self.runs.get(run_id)
            classes, rows = list(run["labels"]), int(run["rows"])
        return await self.triager.run(reader, run_id, classes, rows)

    async def annotate_all(
        self, reader: RecordReader, items: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Each item with triage fields; plus a summary of each run's triage."""
        triages: dict[str, RunTriage] = {}
        for run_id in dict.fromkeys(str(i.get("partition_key")) for i in items):
            triages[run_id] = await self._triage(reader, run_id)
        out = [annotate(i, triages.get(str(i.get("partition_key")))) for i in items]
        return out, {r: t.summary() for r, t in triages.items()}

    async def page(
        self,
        reader: RecordReader,
        run_id: str | None,
        model_id: int | None,
        limit: int,
        cursor: str | None,
        filters: Filters,
    ) -> dict[str, Any]:
        page = await reader.retrain(run_id, model_id, limit, cursor)
        items, triage = await self.annotate_all(reader, page.items)
        return {
            "items": [i for i in items if filters.keep(i)],
            "next_cursor": page.next_cursor,
            "triage": triage,
        }

    async def all(
        self, reader: RecordReader, run_id: str | None, model_id: int | None = None
    ) -> list[dict[str, Any]]:
        items = await fetch_candidates(reader, run_id, model_id)
        return (await self.annotate_all(reader, items))[0]

    def _classes(self, item: dict[str, Any]) -> list[str]:
        model_id = item.get("model_id")
        if isinstance(model_id, int):
            try:
                return list(self.models.get(model_id)["classes"])
            except ApiError:
                pass
        return sorted(item.get("class_probabilities") or {})

    async def review(
        self, client: Any, reader: RecordReader, body: ReviewRequest
    ) -> dict[str, Any]:
        """Validate every decision first (nothing changes on bad input), then store each."""
        if self.table is None:
            raise ApiError(503, "table_not_configured", "no retrain table is configured")
        planned: list[tuple[tuple[str, str], dict[str, Any]]] = []
        if body.reviews is None:
            assert body.run_id is not None and body.accept_suggestions is not None
            for item in await self.all(reader, body.run_id):
                if item["suspected_cause"] != body.accept_suggestions:
                    continue
                if item["review"] is not None and not body.overwrite:
                    continue
                label = item["suggested_label"] if item["suggested_decision"] == "relabel" else None
                decision = item["suggested_decision"] or "keep"
                planned.append(
                    (
                        key_of(item),
                        review_record(decision, label, body.reviewer, "accept_suggestions"),
                    )
                )
        else:
            seen: set[tuple[str, str]] = set()
            for r in body.reviews:
                key = (r.partition_key, r.sort_key)
                if key in seen:
                    raise invalid(
                        "a candidate is listed twice", {"key": list(key)}, code="duplicate_review"
                    )
                seen.add(key)
                raw = await get_item(client, self.table, key)
                if raw is None:
                    raise not_found("candidate", f"{key[0]}/{key[1]}")
                item = await self._one(reader, to_json(raw))
                planned.append((key, self._decide(item, r.decision, r.label, body.reviewer)))
        for key, review in planned:
            await store_review(client, self.table, key, review)
        return {
            "count": len(planned),
            "reviewed": [
                {"partition_key": k[0], "sort_key": k[1], "review": rv} for k, rv in planned
            ],
        }

    async def _one(self, reader: RecordReader, item: dict[str, Any]) -> dict[str, Any]:
        return (await self.annotate_all(reader, [item]))[0][0]

    def _decide(
        self, item: dict[str, Any], decision: str, label: str | None, reviewer: str
    ) -> dict[str, Any]:
        where = {"partition_key": item["partition_key"], "sort_key": item["sort_key"]}
        if decision != "exclude" and not isinstance(item.get("features"), dict):
            raise invalid(
                "this candidate holds no readable row; it can only be excluded",
                where,
                code="unreadable_candidate",
            )
        if decision == "relabel":
            label = label or item.get("suggested_label")
            classes = self._classes(item)
            if label is None:
                raise invalid("no suggested label for this candidate; name one", where)
            if label not in classes:
                raise invalid(
                    f"{label!r} is not a class of the model",
                    {**where, "label": label, "classes": classes},
                    code="unknown_class",
                )
        return review_record(decision, label, reviewer, "manual")
