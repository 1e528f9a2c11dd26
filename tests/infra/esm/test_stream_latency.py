"""A stream that delivers late: LocalStack vs DynamoDB Local.

DynamoDB Local makes a write readable on the stream at once; LocalStack's stream backend
(kinesis-mock) was measured here delivering records up to ~20 s after the write. The runner's
``run_until_idle`` therefore counts a drained stream as idle only after ``esm_idle_quiet_s`` of
quiet (``make test-localstack`` sets ``IRIS_ESM_IDLE_QUIET_S=20``): a record that arrives within
that window is still processed, on either engine.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from infra.esm import EsmRunner, EsmSettings

pytestmark = pytest.mark.integration

RUN = "20261201T230000000Z-late"


def test_a_record_arriving_after_the_stream_drained_is_still_processed(
    esm_tables, make_items, tmp_path
):
    quiet = max(10.0, EsmSettings().esm_idle_quiet_s)
    first, expected_first = make_items(RUN, 20)
    late, expected_late = make_items(RUN, 1, start=20)
    runner = EsmRunner(esm_tables.settings(tmp_path, esm_idle_quiet_s=quiet))
    drained = threading.Event()
    result: dict[str, object] = {}

    def run() -> None:
        result["snapshot"] = runner.run_until_idle(timeout=quiet * 6 + 60)

    thread = threading.Thread(target=run)
    esm_tables.put(first)
    thread.start()
    while thread.is_alive() and not drained.is_set():
        if runner.snapshot().records_seen >= 20:
            drained.set()
        drained.wait(0.05)
    esm_tables.put(late)  # within the quiet window: the runner must not have stopped yet
    thread.join()
    snapshot = result["snapshot"]
    assert snapshot.records_seen == 21  # type: ignore[attr-defined]
    assert Counter(esm_tables.retrain_keys()) == Counter(expected_first | expected_late)
