"""The replicas benchmark's load: N concurrent HTTP workers for a fixed time (httpx, asyncio),
their requests per second and latency percentiles; and an app served on a thread (uvicorn).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from infra.local.dynamodb_local import free_port

from tests.support.waits import wait_for


def percentile(samples: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``samples`` by linear interpolation (numpy's default)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class LoadResult:
    ok: int
    failed: int
    seconds: float
    latencies: list[float]  # seconds, successful requests only

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def line(self) -> str:
        return (
            f"{self.rate:8.1f} req/s  p50 {percentile(self.latencies, 50) * 1e3:7.1f} ms  "
            f"p95 {percentile(self.latencies, 95) * 1e3:7.1f} ms  "
            f"({self.ok} ok, {self.failed} failed)"
        )


async def _load(url: str, params: dict[str, str], workers: int, seconds: float) -> LoadResult:
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    latencies: list[float] = []
    failed = 0
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal failed
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    r = await client.get(url, params=params)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t)
                else:
                    failed += 1

        await asyncio.gather(*(worker() for _ in range(workers)))
        took = time.perf_counter() - start
    return LoadResult(len(latencies), failed, took, latencies)


def run_load(url: str, params: dict[str, str], workers: int, seconds: float) -> LoadResult:
    """``workers`` concurrent GETs of ``url`` for ``seconds`` (each waits for its answer)."""
    return asyncio.run(_load(url, params, workers, seconds))


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a thread on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 30, "the course's app to serve")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
