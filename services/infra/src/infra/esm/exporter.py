"""The runner's figures for Prometheus (``IRIS_ESM_METRICS_PORT``; off when unset).

Read from the runner at scrape time (``EsmRunner.snapshot`` and the function's outcome counts from
its log lines, :mod:`infra.esm.function_logs`), so the exporter adds no bookkeeping to the hot
path: iterator age (lag), batches, invocations, function errors, partial failures, retries,
records by the function's outcome (flagged, passed, unreadable, to_destination, ignored, failed)
and records sent to the on-failure destination.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from infra.esm.function_logs import FUNCTION_OUTCOMES

_COUNTERS = (
    ("batches", "batches", "Batches read from the stream."),
    ("invocations", "invocations", "Function invocations (retries and bisected halves included)."),
    ("function_errors", "function_errors", "Invocations that raised or returned an error."),
    ("partial_failures", "partial_failures", "Invocations that reported batchItemFailures."),
    ("retries", "retries", "Retries after a failed invocation."),
    ("records_seen", "records_read", "Stream records read."),
    ("records_failed", "onfailure_sends", "Records sent to the on-failure destination."),
)


class RunnerCollector(Collector):
    def __init__(self, runner: Any) -> None:
        self.runner = runner

    def collect(self) -> Iterator[Any]:
        snap = self.runner.snapshot()
        for attr, name, doc in _COUNTERS:
            family = CounterMetricFamily(f"iris_esm_{name}", doc)
            family.add_metric([], getattr(snap, attr))
            yield family
        lag = GaugeMetricFamily(
            "iris_esm_iterator_age_seconds", "Age of the newest record read (AWS's IteratorAge)."
        )
        lag.add_metric([], snap.lag_seconds)
        yield lag
        shards = GaugeMetricFamily("iris_esm_active_shards", "Shards being read.")
        shards.add_metric([], snap.active_shards)
        yield shards
        stats = self.runner.function_stats()
        if stats is not None:
            records = CounterMetricFamily(
                "iris_esm_records", "Records by the function's outcome.", labels=["outcome"]
            )
            for outcome in sorted(set(FUNCTION_OUTCOMES) | set(stats)):
                records.add_metric([outcome], stats.get(outcome, 0))
            yield records


def serve(runner: Any, host: str, port: int) -> CollectorRegistry:
    """Serve ``/metrics`` for ``runner`` on ``host:port`` (a daemon thread)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunnerCollector(runner))
    start_http_server(port, addr=host, registry=registry)
    return registry
