"""What operators see: a request id and one JSON access line per request, Prometheus metrics.

- ``X-Request-ID``: taken from the caller (the dashboard sends its own) or made here, put on every
  log line written while the request is served (``iris_common.logs``) and returned in the
  response.
- ``GET /metrics`` (behind the token when one is set): request latency by route template and
  status, scores, batch tests, score-log records submitted / written / failed / pending, the age
  of the oldest pending record, training jobs by state. The score-log figures are read from the
  durable outbox at scrape time, so they survive restarts and never drift from the truth.
"""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Response
from iris_common.logs import REQUEST_ID_HEADER, new_request_id, reset_request_id, set_request_id
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("model_api.access")

# Process-wide instruments (one registry, so several apps in one test process do not clash).
REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "iris_http_request_duration_seconds",
    "Time to serve a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
SCORES = Counter("iris_scores", "Records scored one at a time.", registry=REGISTRY)
BATCH_TESTS = Counter("iris_batch_tests", "Batch tests run.", registry=REGISTRY)
BATCH_TEST_ROWS = Counter("iris_batch_test_rows", "Rows scored by batch tests.", registry=REGISTRY)
JOB_STATES = ("queued", "training", "ready", "failed")


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"  # bounded label values only


class RequestContextMiddleware:
    """Request id in, request id out, one access line, one latency observation."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for key, value in scope["headers"]:
            if key.lower() == REQUEST_ID_HEADER.lower().encode():
                incoming = value.decode("latin-1")
        request_id = new_request_id(incoming)
        token = set_request_id(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(elapsed)
            log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],  # never the query string: it may carry a token
                status,
                extra={
                    "request_id": request_id,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1e3, 2),
                },
            )
            reset_request_id(token)


class ServiceCollector(Collector):
    """Reads one app's score-log outbox and training jobs when Prometheus scrapes."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterator[Any]:
        jobs = GaugeMetricFamily("iris_training_jobs", "Models by job state.", labels=["state"])
        tally = Tally(str(m.get("status")) for m in self.services.models.list())
        for state in sorted(set(JOB_STATES) | set(tally)):
            jobs.add_metric([state], tally.get(state, 0))
        yield jobs
        scorelog = self.services.scorelog
        if scorelog is None:
            return
        totals = scorelog.totals()
        for name, doc in (
            ("submitted", "Score-log records accepted into the durable outbox."),
            ("written", "Score-log records DynamoDB accepted."),
            ("failed", "Score-log records DynamoDB rejected for good."),
        ):
            family = CounterMetricFamily(f"iris_scorelog_records_{name}", doc)
            family.add_metric([], totals[name])
            yield family
        pending = GaugeMetricFamily("iris_scorelog_records_pending", "Records not yet written.")
        pending.add_metric([], totals["pending"])
        yield pending
        age = GaugeMetricFamily(
            "iris_scorelog_oldest_pending_age_seconds",
            "Age of the oldest run with records still pending (0 when none).",
        )
        age.add_metric([], totals["oldest_pending_age_s"])
        yield age


def metrics_router(services: Any) -> APIRouter:
    """``GET /metrics``: the process-wide instruments plus this app's collector."""
    app_registry = CollectorRegistry(auto_describe=False)
    app_registry.register(ServiceCollector(services))
    router = APIRouter(tags=["operations"])

    @router.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {
                "content": {"text/plain": {"schema": {"type": "string"}}},
                "description": "Prometheus text format",
            }
        },
    )
    def metrics() -> Response:
        body = generate_latest(REGISTRY) + generate_latest(app_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
