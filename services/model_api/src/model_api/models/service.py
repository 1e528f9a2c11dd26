"""Versions as the API sees them: scoring by version, lineage, comparison and promotion."""

from __future__ import annotations

import secrets
from typing import Any

from iris_common.clock import utc_now

from model_api.core.documents import put_doc, query_docs
from model_api.core.errors import ApiError, conflict, invalid
from model_api.core.objects import ObjectStore
from model_api.core.registry import Registry
from model_api.core.ttl_cache import TtlCache
from model_api.datasets.store import DatasetStore
from model_api.models.compare import evaluate, flagged_outcome
from model_api.models.network import Predictor
from model_api.models.store import ModelStore, finite
from model_api.models.train import frame_digests
from model_api.models.versions import VersionStore
from model_api.schema.features import LABEL, feature_matrix

MAX_COMPARISONS = 100


class VersionService:
    """One place for everything about versions (the training job only adds them)."""

    def __init__(
        self,
        registry: Registry,
        models: ModelStore,
        datasets: DatasetStore,
        objects: ObjectStore,
        scoring_cache_seconds: float = 0.0,
    ) -> None:
        self.store = VersionStore(registry, objects)
        self.registry = registry
        self.models = models
        self.datasets = datasets
        # what a single score needs from the registry (the model, its promoted version), kept
        # a moment so a warm score makes no registry read; dropped here on promotion and delete
        self._serving: TtlCache[tuple[dict[str, Any], int | None]] = TtlCache(scoring_cache_seconds)

    def describe(self, rec: dict[str, Any]) -> dict[str, Any]:
        """The model with which version scores (``promoted_version``) and how many it has."""
        numbers = self.store.numbers(rec["id"])
        return {
            **rec,
            "promoted_version": self.store.promoted(rec["id"]),
            "versions": len(numbers),
            "latest_version": max(numbers, default=None),
        }

    # ----- the trainer's training path (POST /api/models, /train, the course's PUT) -----
    def record_training(
        self, model_id: int, blobs: dict[str, bytes], rec: dict[str, Any], source: str = "train"
    ) -> int:
        """Keep a finished plain training as a version and promote it (that path has always
        replaced what scores; the retrain flow's versions wait for an explicit promotion)."""
        try:
            rows = frame_digests(self.datasets.frame(rec["dataset_id"]))
        except ApiError:  # a deleted data set must not lose the weights
            rows = []
        lineage = {
            "source": source,
            "parent_version": self.store.promoted(model_id),
            "base_dataset_id": rec["dataset_id"],
            "dataset_id": rec["dataset_id"],
            "candidates": [],
            "params": rec["params"],
            "metrics": rec["metrics"],
            "classes": rec["classes"],
            "trained_rows": len(rows),
        }
        made = self.store.add(model_id, blobs, lineage, rows)
        self._set_promoted(
            model_id,
            {"version": made["version"], "forced": False, "reason": f"trained ({source})"},
        )
        return int(made["version"])

    def _set_promoted(self, model_id: int, entry: dict[str, Any]) -> None:
        try:
            self.store.set_promoted(model_id, entry)
        finally:
            self._serving.drop(model_id)

    def forget(self, model_id: int) -> None:
        """Remove a deleted model's versions and promotion; this replica stops scoring it at
        once (another within ``IRIS_SCORING_CACHE_SECONDS``)."""
        try:
            self.store.forget(model_id)
        finally:
            self._serving.drop(model_id)

    # ----- reads -----
    def predictor(
        self, model_id: int, version: int | None, cached: bool = False
    ) -> tuple[Predictor, list[str], int]:
        """The version's predictor, classes and number (the promoted one unless named).

        ``cached``: the single-score path, which reuses the model record and promotion read
        within ``IRIS_SCORING_CACHE_SECONDS`` (so another replica's promotion or delete reaches
        it that late); a batch test reads them fresh.
        """
        rec, promoted = (
            self._serving.get(
                model_id, lambda: self._serving_view(model_id), lambda v: v[1] is not None
            )
            if cached
            else self._serving_view(model_id)
        )
        if version is None:
            if promoted is None:
                why = f": {rec['error']}" if rec.get("error") else ""  # e.g. training diverged
                raise conflict(
                    "model_not_ready",
                    f"model {model_id} has no trained version yet (status {rec['status']}){why}",
                    {"status": rec["status"]},
                )
            version = promoted
        predictor = self.store.predictor(model_id, version)
        classes = self.store.record(model_id, version).get("classes") or rec["classes"]
        return predictor, list(classes), version

    def _serving_view(self, model_id: int) -> tuple[dict[str, Any], int | None]:
        """The model record (404 for an unknown model) and its promoted version."""
        return self.models.get(model_id), self.store.promoted(model_id)

    def listing(self, model_id: int) -> dict[str, Any]:
        self.models.get(model_id)
        promotion = self.store.promotion(model_id)
        return {
            "model_id": model_id,
            "promoted_version": promotion["version"],
            "promotions": promotion["history"],
            "versions": self.store.list(model_id),
        }

    def get(self, model_id: int, version: int) -> dict[str, Any]:
        self.models.get(model_id)
        return self.store.get(model_id, version)

    # ----- comparison -----
    def comparisons(self, model_id: int) -> list[dict[str, Any]]:
        """The model's latest comparisons, oldest first (registry items ``comparison#<id>``,
        sorted by their time-ordered ids)."""
        return [c for _, c in query_docs(self.registry, f"comparison#{model_id}")]

    def compare(
        self, model_id: int, a: int, b: int, dataset_id: int, exclude_trained: bool
    ) -> dict[str, Any]:
        """Both versions on the data set's rows that neither trained on (409 if some are,
        unless ``exclude_trained``: then they are left out and counted)."""
        if a == b:
            raise invalid("compare two different versions", {"versions": [a, b]})
        pa, classes, _ = self.predictor(model_id, a)
        pb, _, _ = self.predictor(model_id, b)
        df = self.datasets.frame(dataset_id)
        unknown = sorted(set(df[LABEL].astype(str)) - set(classes))
        if unknown:
            raise invalid(
                f"dataset {dataset_id} has classes the model does not know",
                {"unknown": unknown, "model_classes": classes},
                code="unknown_classes",
            )
        seen = self.store.trained_rows(model_id, a) | self.store.trained_rows(model_id, b)
        trained = [d in seen for d in frame_digests(df)]
        overlap = sum(trained)
        if overlap and not exclude_trained:
            raise conflict(
                "trained_rows",
                f"{overlap} of the {len(df)} rows of dataset {dataset_id} were used to train "
                f"version {a} or {b}; pick another data set or set exclude_trained",
                {"trained_rows": overlap, "rows": len(df)},
            )
        fair = df[[not t for t in trained]].reset_index(drop=True)
        if fair.empty:
            raise conflict(
                "no_fair_rows",
                f"every row of dataset {dataset_id} was trained on",
                {"rows": len(df)},
            )
        x, actual = feature_matrix(fair), fair[LABEL].astype(str).tolist()
        ea, eb = evaluate(pa, x, actual, classes), evaluate(pb, x, actual, classes)
        records = self._lineage_records(model_id, a) + self._lineage_records(model_id, b)
        unique = list({(r["partition_key"], r["sort_key"]): r for r in records}.values())
        result = {
            "comparison_id": f"{utc_now()}-{secrets.token_hex(2)}",
            "model_id": model_id,
            "versions": [a, b],
            "dataset_id": dataset_id,
            "labels": classes,
            "rows": len(fair),
            "excluded_rows": overlap,
            "note": (
                f"{overlap} rows used to train version {a} or {b} were left out"
                if overlap
                else None
            ),
            "results": {
                str(a): {k: v for k, v in ea.items() if k != "predicted"},
                str(b): {k: v for k, v in eb.items() if k != "predicted"},
            },
            "accuracy_delta": eb["accuracy"] - ea["accuracy"],
            "changed_predictions": sum(
                p != q for p, q in zip(ea["predicted"], eb["predicted"], strict=True)
            ),
            "flagged": flagged_outcome(pa, pb, unique, classes),
        }
        pk = f"comparison#{model_id}"
        put_doc(self.registry, pk, result["comparison_id"], finite(result))
        stored = self.registry.query(pk)
        for sk, _ in stored[: max(0, len(stored) - MAX_COMPARISONS)]:
            self.registry.delete(pk, sk)  # keep the latest MAX_COMPARISONS
        return result

    def _lineage_records(self, model_id: int, version: int) -> list[dict[str, Any]]:
        """The reviewed candidates a version trained on, with the label it was taught."""
        out = []
        for c in self.store.get(model_id, version).get("candidates", []):
            if c["decision"] != "exclude" and isinstance(c.get("features"), dict):
                out.append({**c, "label": c["label"]})
        return out

    # ----- promotion -----
    def promote(self, model_id: int, version: int, force: bool, reviewer: str) -> dict[str, Any]:
        """Promote ``version``; refuse (409) one that did worse than the promoted version on
        their latest comparison, or was never compared with it, unless ``force``."""
        self.get(model_id, version)  # 404 for an unknown version
        current = self.store.promoted(model_id)
        if current == version:
            return {**self.listing(model_id), "changed": False}
        evidence = None
        if current is not None:
            for c in reversed(self.comparisons(model_id)):
                if set(c["versions"]) == {current, version}:
                    evidence = c
                    break
        worse = None
        if evidence is not None:
            mine = evidence["results"][str(version)]["accuracy"]
            theirs = evidence["results"][str(current)]["accuracy"]
            worse = mine < theirs
        if current is not None and not force:
            if evidence is None:
                raise conflict(
                    "not_compared",
                    f"compare version {version} with the promoted version {current} first "
                    "(or force)",
                    {"promoted_version": current},
                )
            if worse:
                raise conflict(
                    "worse_version",
                    f"version {version} is less accurate than the promoted version {current} "
                    f"on dataset {evidence['dataset_id']}; force to promote it anyway",
                    {
                        "promoted_version": current,
                        "comparison_id": evidence["comparison_id"],
                        "accuracy": {str(version): mine, str(current): theirs},
                    },
                )
        overrode = current is not None and (evidence is None or bool(worse))
        entry = {
            "version": version,
            "forced": bool(force) and overrode,  # force that overrode a refusal, recorded
            "reviewer": reviewer,
            "comparison_id": evidence["comparison_id"] if evidence else None,
            "worse_on_comparison": worse,
            "reason": "forced" if force and overrode else "compared" if evidence else "first",
        }
        self._set_promoted(model_id, entry)
        return {**self.listing(model_id), "changed": True}
