"""The object store on both backends: a local folder (``file://``) and a real S3 API (moto's
server in the unit tier, LocalStack's S3 in the LocalStack tier), through the same calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings
from model_api.core.objects import ObjectMissing, ObjectStore
from model_api.datasets.store import bundled_csv

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_env(s3_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The standard AWS variables pointed at the S3 endpoint (placeholder keys for moto)."""
    if s3_endpoint.is_local_engine:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    return s3_endpoint


@pytest.fixture(params=["file", "s3"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """(url, endpoint) of a fresh store on each backend."""
    if request.param == "file":
        yield (tmp_path / "objects").as_uri(), None
        return
    endpoint = request.getfixturevalue("s3_env")
    bucket = request.getfixturevalue("s3_bucket")
    yield f"s3://{bucket}/some/prefix", endpoint


def open_store(url: str, endpoint: Any) -> ObjectStore:
    if endpoint is None:
        return ObjectStore(url)
    return ObjectStore(url, endpoint.url, endpoint.region)


def test_put_get_list_delete(store_url: tuple[str, Any]) -> None:
    store = open_store(*store_url)
    store.put("datasets/1/data.csv", b"a,b\n1,2\n")
    store.put("datasets/10/data.csv", b"x")
    store.put("models/1/predictor.npz", b"\x00\x01")
    assert store.get("datasets/1/data.csv") == b"a,b\n1,2\n"
    assert store.exists("models/1/predictor.npz") and not store.exists("models/2/predictor.npz")
    assert store.list("datasets/") == ["datasets/1/data.csv", "datasets/10/data.csv"]
    assert store.list("datasets/1/") == ["datasets/1/data.csv"]  # a folder, not a name prefix
    store.put("datasets/1/data.csv", b"replaced")
    assert store.get("datasets/1/data.csv") == b"replaced"
    store.delete_prefix("datasets/1/")
    assert store.list() == ["datasets/10/data.csv", "models/1/predictor.npz"]
    with pytest.raises(ObjectMissing):
        store.get("datasets/1/data.csv")
    store.delete("datasets/1/data.csv")  # already gone: no error
    assert store.check() == "ok"


def test_two_stores_on_one_url_see_each_others_objects(store_url: tuple[str, Any]) -> None:
    one, two = open_store(*store_url), open_store(*store_url)
    one.put("k", b"v")
    assert two.get("k") == b"v" and two.list() == ["k"]
    two.delete("k")
    assert not one.exists("k")


def test_the_s3_prefix_keeps_the_store_to_itself(s3_env: Any, s3_bucket: str) -> None:
    store = ObjectStore(f"s3://{s3_bucket}/iris", s3_env.url, s3_env.region)
    store.put("datasets/0/data.csv", b"x")
    s3 = boto3.client("s3", **s3_env.client_kwargs())
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["iris/datasets/0/data.csv"]


@pytest.mark.parametrize(
    "url", ["", "/tmp/plain/path", "http://example.com/x", "s3:///no-bucket", "gs://b/p"]
)
def test_a_bad_url_is_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match="IRIS_OBJECT_STORE"):
        ObjectStore(url)


def test_an_unreachable_s3_endpoint_makes_the_service_not_ready(tmp_path: Path) -> None:
    from infra.local.dynamodb_local import free_port

    store = ObjectStore("s3://bucket/p", f"http://127.0.0.1:{free_port()}", "us-east-1")
    assert store.check().startswith("error")


def test_the_service_keeps_data_set_files_in_the_s3_bucket(
    s3_env: Any, s3_bucket: str, tmp_path: Path
) -> None:
    settings = ApiSettings(
        data_dir=tmp_path,
        scorelog_enabled=False,
        object_store=f"s3://{s3_bucket}/iris",
        aws_endpoint_url=s3_env.url,
        aws_region=s3_env.region,
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/health/ready").json()["checks"]["object_store"] == "ok"
        created = client.post("/api/datasets", files={"file": ("d.csv", bundled_csv())})
        assert created.status_code == 201, created.text
        ident = created.json()["id"]
        client.app.state.services.datasets._frames.clear()  # the next read goes to the bucket
        rows = client.get(f"/api/datasets/{ident}/rows", params={"limit": 2}).json()
        assert rows["total"] == created.json()["rows"] and len(rows["rows"]) == 2
    s3 = boto3.client("s3", **s3_env.client_kwargs())
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert {"iris/datasets/0/data.csv", f"iris/datasets/{ident}/data.csv"} <= keys
    assert not list((tmp_path / "model_api").rglob("*.csv"))  # no data set file on local disk
