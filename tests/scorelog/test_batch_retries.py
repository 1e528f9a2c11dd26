"""The retry loop of one BatchWriteItem chunk, with a scripted fake client (no endpoint needed)."""

from __future__ import annotations

import random
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError
from model_api.scorelog.batch import Backoff, Health, send_chunk

TABLE = "T"


def item(n: int) -> dict[str, dict[str, str]]:
    return {"partition_key": {"S": "run"}, "sort_key": {"S": f"{n:06d}"}, "Class": {"S": "x"}}


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, "BatchWriteItem")


class FakeClient:
    """Answers each call with the next scripted outcome; a callable outcome sees the request."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.requests: list[list[str]] = []

    async def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        puts = kwargs["RequestItems"][TABLE]
        self.requests.append([p["PutRequest"]["Item"]["sort_key"]["S"] for p in puts])
        outcome = self.script.pop(0) if self.script else {}
        if callable(outcome):
            outcome = outcome(puts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def unprocessed(*numbers: int) -> dict[str, Any]:
    return {"UnprocessedItems": {TABLE: [{"PutRequest": {"Item": item(n)}} for n in numbers]}}


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def run(script: list[Any], n: int = 5) -> tuple[dict[int, str], FakeClient, Sleeps, Health]:
    fake, sleeps, health = FakeClient(script), Sleeps(), Health()
    backoff = Backoff(base=0.1, cap=1.0, rng=random.Random(7))
    failures = await send_chunk(fake, TABLE, [item(i) for i in range(n)], backoff, health, sleeps)
    return failures, fake, sleeps, health


async def test_unprocessed_items_are_resent_until_accepted() -> None:
    failures, fake, sleeps, _ = await run([unprocessed(1, 3), unprocessed(3), {}])
    assert failures == {}
    assert fake.requests == [
        ["000000", "000001", "000002", "000003", "000004"],
        ["000001", "000003"],
        ["000003"],
    ]
    assert len(sleeps.delays) == 2  # backs off before each re-send, as AWS asks


async def test_throttling_and_connection_errors_back_off_and_never_fail_items() -> None:
    script: list[Any] = [client_error("ProvisionedThroughputExceededException")] * 3
    script += [EndpointConnectionError(endpoint_url="http://x")] * 6
    script += [client_error("ResourceNotFoundException"), {}]
    failures, fake, sleeps, health = await run(script)
    assert failures == {}
    assert len(fake.requests) == 11
    assert all(len(r) == 5 for r in fake.requests)
    assert health.last_error is None and not health.unavailable  # healthy again at the end
    # Full jitter: each delay is within [0, min(cap, base * 2**attempt)].
    assert all(0 <= d <= min(1.0, 0.1 * 2**i) for i, d in enumerate(sleeps.delays))
    assert len(set(sleeps.delays)) > 1


async def test_health_reports_the_outage_while_it_lasts() -> None:
    seen: list[bool] = []
    health = Health()

    async def sleep(_: float) -> None:
        seen.append(health.unavailable)

    fake = FakeClient([EndpointConnectionError(endpoint_url="http://x")] * 2 + [{}])
    await send_chunk(fake, TABLE, [item(0)], Backoff(), health, sleep)
    assert seen == [True, True]
    assert not health.unavailable


async def test_a_validation_error_isolates_the_bad_item_and_writes_the_rest() -> None:
    def reject_if_item_2(puts: list[dict[str, Any]]) -> Any:
        keys = [p["PutRequest"]["Item"]["sort_key"]["S"] for p in puts]
        return client_error("ValidationException") if "000002" in keys else {}

    failures, fake, _, _ = await run([reject_if_item_2] * 10)
    assert list(failures) == [2]
    assert "ValidationException" in failures[2]
    assert fake.requests[0] == ["000000", "000001", "000002", "000003", "000004"]
    assert sorted(fake.requests[1:]) == [["000000"], ["000001"], ["000002"], ["000003"], ["000004"]]
