"""Expired iterators and transient GetRecords errors lose and duplicate nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from infra.esm import EsmRunner

pytestmark = pytest.mark.integration

RUN = "20261125T031509123Z-7f3a"


class FlakyStreams:
    """The real Streams client, but some GetRecords calls fail first."""

    def __init__(self, inner: Any, failures: list[Exception]) -> None:
        self.inner = inner
        self.failures = failures
        self.get_records_calls = 0

    def get_records(self, **kwargs: Any) -> Any:
        self.get_records_calls += 1
        if self.get_records_calls % 3 == 2 and self.failures:
            raise self.failures.pop(0)
        return self.inner.get_records(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_expired_iterator_and_connection_errors_are_recovered(esm_tables, make_items, tmp_path):
    items, expected = make_items(RUN, 120)
    esm_tables.put(items)
    esm_tables.wait_streamed()
    expired = ClientError(
        {"Error": {"Code": "ExpiredIteratorException", "Message": "Iterator expired"}},
        "GetRecords",
    )
    streams = FlakyStreams(
        boto3.client("dynamodbstreams", **esm_tables.endpoint.client_kwargs()),
        [expired, EndpointConnectionError(endpoint_url="http://nowhere"), expired],
    )
    runner = EsmRunner(
        esm_tables.settings(tmp_path, esm_batch_size=10), dynamodb=esm_tables.ddb, streams=streams
    )
    snapshot = runner.run_until_idle(timeout=120)
    assert streams.failures == []  # every injected failure happened
    assert Counter(esm_tables.retrain_keys()) == Counter(expected)
    assert snapshot.records_seen == 120  # no batch read twice or skipped
