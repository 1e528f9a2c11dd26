"""The registry wrapper on a real DynamoDB API (DynamoDB Local by default), on the provisioned
registry table: values round-trip, conditions hold, counters never repeat across clients."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from model_api.core.registry import ConditionFailed, Registry

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(aws_endpoint: Any, provisioned_tables: dict[str, str]) -> Registry:
    return Registry.connect(provisioned_tables["registry"], aws_endpoint.url, aws_endpoint.region)


def test_put_get_round_trips_plain_values(registry: Registry) -> None:
    item = {
        "name": "iris",
        "rows": 150,
        "accuracy": 0.9333,
        "ok": True,
        "none": None,
        "classes": ["setosa", "versicolor"],
        "stats": {"mean": 5.84, "n": 3},
        "blob": b"\x00\x01",
    }
    registry.put("dataset", "000001", item)
    assert registry.get("dataset", "000001") == item
    assert registry.get("dataset", "000002") is None


def test_bad_values_are_refused_and_nothing_is_written(registry: Registry) -> None:
    with pytest.raises(ValueError, match="nan"):
        registry.put("dataset", "000003", {"accuracy": float("nan")})
    with pytest.raises(TypeError, match="object"):
        registry.put("dataset", "000003", {"x": object()})
    with pytest.raises(ValueError, match="key"):
        registry.put("dataset", "000003", {"pk": "other"})
    assert registry.get("dataset", "000003") is None


def test_put_new_refuses_an_existing_key(registry: Registry) -> None:
    registry.put_new("model", "000001", {"name": "first"})
    with pytest.raises(ConditionFailed):
        registry.put_new("model", "000001", {"name": "second"})
    assert registry.get("model", "000001") == {"name": "first"}


def test_conditional_put_and_update(registry: Registry) -> None:
    registry.put("job", "000001", {"status": "queued", "epoch": 0})
    with pytest.raises(ConditionFailed):
        registry.put(
            "job",
            "000001",
            {"status": "done"},
            condition="#s = :s",
            names={"#s": "status"},
            values={":s": "running"},
        )
    after = registry.update(
        "job",
        "000001",
        set={"status": "running", "owner": "replica-a"},
        add={"epoch": 2},
        condition="#s = :s",
        names={"#s": "status"},
        values={":s": "queued"},
    )
    assert after == {"status": "running", "owner": "replica-a", "epoch": 2}
    after = registry.update("job", "000001", remove=["owner"])
    assert after == {"status": "running", "epoch": 2}
    with pytest.raises(ConditionFailed):  # update of a missing item can be refused too
        registry.update("job", "000009", set={"x": 1}, condition="attribute_exists(pk)")
    assert registry.get("job", "000009") is None
    with pytest.raises(ValueError):
        registry.update("job", "000001")


def test_query_lists_one_kind_in_key_order_across_pages(registry: Registry) -> None:
    blob = "x" * 20_000  # ~20 KB each: 60 items span several 1 MB query pages
    for i in reversed(range(60)):
        registry.put("outbox#7", f"{i:06d}", {"n": i, "blob": blob})
    registry.put("outbox#8", "000000", {"n": -1})
    listed = registry.query("outbox#7")
    assert [sk for sk, _ in listed] == [f"{i:06d}" for i in range(60)]
    assert [item["n"] for _, item in listed] == list(range(60))
    assert [sk for sk, _ in registry.query("outbox#7", prefix="00005")] == [
        f"{i:06d}" for i in range(50, 60)
    ]
    assert registry.query("outbox#7", descending=True)[0][0] == "000059"
    assert registry.query("outbox#none") == []


def test_delete_and_conditional_delete(registry: Registry) -> None:
    registry.put("lease", "run#1", {"owner": "a"})
    with pytest.raises(ConditionFailed):
        registry.delete(
            "lease", "run#1", condition="#o = :me", names={"#o": "owner"}, values={":me": "b"}
        )
    assert registry.get("lease", "run#1") == {"owner": "a"}
    registry.delete(
        "lease", "run#1", condition="#o = :me", names={"#o": "owner"}, values={":me": "a"}
    )
    assert registry.get("lease", "run#1") is None
    registry.delete("lease", "run#1")  # absent is fine


def test_next_id_counts_from_zero_and_never_repeats_across_clients(
    registry: Registry, aws_endpoint: Any
) -> None:
    other = Registry.connect(registry.table, aws_endpoint.url, aws_endpoint.region)
    assert registry.next_id("dataset") == 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda i: (registry, other)[i % 2].next_id("dataset"), range(40)))
    assert sorted(ids) == list(range(1, 41))
    assert registry.next_id("model") == 0  # one counter per kind
