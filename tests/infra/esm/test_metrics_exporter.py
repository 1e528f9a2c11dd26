"""The stream runner's Prometheus endpoint shows what it did, read over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from infra.esm import EsmRunner
from infra.esm.exporter import serve
from infra.local.dynamodb_local import free_port
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

RUN = "20261201T101010123Z-abcd"


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_batches_and_outcomes(esm_tables, make_items, tmp_path) -> None:
    items, expected = make_items(RUN, 120)
    esm_tables.put(items)
    esm_tables.wait_streamed()
    port = free_port()
    runner = EsmRunner(esm_tables.settings(tmp_path, esm_batch_size=25))
    serve(runner, "127.0.0.1", port)
    runner.run_until_idle(timeout=120)
    samples = _samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
    assert samples[("iris_esm_records_read_total", ())] == 120
    assert samples[("iris_esm_records_total", (("outcome", "flagged"),))] == len(expected)
    assert samples[("iris_esm_records_total", (("outcome", "passed"),))] == 120 - len(expected)
    assert samples[("iris_esm_records_total", (("outcome", "unreadable"),))] == 0
    assert samples[("iris_esm_batches_total", ())] >= 120 / 25
    assert samples[("iris_esm_onfailure_sends_total", ())] == 0
    assert samples[("iris_esm_retries_total", ())] == 0
    assert ("iris_esm_iterator_age_seconds", ()) in samples
