"""dashboard.api: the one exception type for every failure, paging, request shapes."""

from __future__ import annotations

import json

import httpx
import pytest
from dashboard.api import ApiClient, ApiError

from tests.support.http_kit import JsonHandler, serving


def test_the_api_error_shape_becomes_api_error_with_its_fields(client, fake_api) -> None:
    fake_api.fail["GET /api/models/9"] = httpx.Response(
        409, json={"error": {"code": "busy", "message": "model 9 is training", "details": None}}
    )
    with pytest.raises(ApiError) as info:
        client.get_model(9)
    err = info.value
    assert (err.code, err.status, err.message) == ("busy", 409, "model 9 is training")
    assert str(err) == "model 9 is training (HTTP 409, busy)"


def test_validation_details_are_summarised_readably(client, fake_api) -> None:
    details = [{"loc": ["body", "epochs"], "msg": "Input should be greater than 0"}]
    fake_api.fail["POST /api/models"] = httpx.Response(
        422, json={"error": {"code": "invalid", "message": "bad request", "details": details}}
    )
    with pytest.raises(ApiError, match=r"epochs: Input should be greater than 0"):
        client.create_model({"dataset_id": 0, "epochs": 0})


def test_a_non_json_error_page_still_gives_an_api_error(client, fake_api) -> None:
    fake_api.fail["GET /api/datasets"] = httpx.Response(502, text="<html>Bad gateway</html>")
    with pytest.raises(ApiError) as info:
        client.list_datasets()
    assert info.value.code == "http_502" and info.value.status == 502


def test_a_timeout_is_an_api_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    api = ApiClient("http://model-api.test", transport=httpx.MockTransport(slow))
    with pytest.raises(ApiError) as info:
        api.list_models()
    assert info.value.code == "timeout"


def test_a_refused_connection_is_an_api_error_naming_the_url() -> None:
    from infra.local.dynamodb_local import free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    api = ApiClient(url, connect_timeout=1.0)
    with pytest.raises(ApiError) as info:
        api.list_datasets()
    assert info.value.code == "unreachable" and url in str(info.value)
    with pytest.raises(ApiError):
        api.ready()


def test_against_a_real_http_server_errors_and_json_both_arrive() -> None:
    """A tiny real HTTP peer (not a mock transport): success JSON and the error shape."""

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            if self.path == "/api/models":
                self.send_json(200, [{"id": 0, "status": "ready"}])
            else:
                error = {
                    "code": "run_not_found",
                    "message": "no such run",
                    "details": {"run_id": "x"},
                }
                self.send_json(404, {"error": error})

    with serving(Handler) as url:
        api = ApiClient(url)
        assert api.list_models() == [{"id": 0, "status": "ready"}]
        with pytest.raises(ApiError, match=r"no such run \(HTTP 404, run_not_found\): run_id: x"):
            api.get_run("x")
        api.close()


def test_all_rows_follows_the_paging_of_the_api(client, fake_api, bundled) -> None:
    fake_api.page_cap = 500  # the API may cap a page below what the client asks
    ident = fake_api.add_dataset(bundled)
    rows = client.all_rows(ident)
    assert rows == bundled
    offsets = [int(r.url.params["offset"]) for r in fake_api.calls("GET", f"/api/datasets/{ident}")]
    assert offsets == [0, 500, 1000]


def test_records_and_candidates_follow_next_cursor(client, fake_api, make) -> None:
    fake_api.page_cap = 3
    run = "20261125T031509123Z-7f3a"
    fake_api.records[run] = [make.score_item(run, i, "setosa", "setosa", 0.99) for i in range(7)]
    fake_api.candidates[run] = fake_api.records[run][:4]
    assert [r["sort_key"] for r in client.all_run_records(run)] == [f"{i:06d}" for i in range(7)]
    assert len(client.all_retrain_candidates(run)) == 4
    assert len(client.all_run_records(run, max_items=5)) == 5


def test_upload_sends_the_csv_as_a_multipart_file_part(client, fake_api, make) -> None:
    content = make.csv_path.read_bytes()
    created = client.upload_dataset("mine.csv", content, name="mine.csv")
    assert created["rows"] == 1200
    request = fake_api.calls("POST", "/api/datasets")[0]
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="mine.csv"' in request.content
    assert b'name="name"' in request.content


def test_score_sends_exactly_one_of_features_or_values(client, fake_api) -> None:
    client.score(0, values=[1.0] * 20)
    assert json.loads(fake_api.requests[-1].content) == {"values": [1.0] * 20}
    client.score(0, features={"elevation": 1.0})
    assert json.loads(fake_api.requests[-1].content) == {"features": {"elevation": 1.0}}
    with pytest.raises(ValueError):
        client.score(0)


def test_run_ids_stay_one_path_segment(client, fake_api) -> None:
    with pytest.raises(ApiError, match="Not a valid run id"):
        client.get_run("../models/1")
    assert fake_api.requests == []


def test_the_schema_is_fetched_once_and_retried_while_the_api_is_down(client, fake_api) -> None:
    fake_api.fail["GET /api/schema"] = httpx.Response(503, text="starting")
    with pytest.raises(ApiError):
        client.schema()
    del fake_api.fail["GET /api/schema"]
    first = client.schema()
    assert client.schema() is first and first["limits"]["validation_split"]["max"] == 0.5
    assert len(fake_api.calls("GET", "/api/schema")) == 2  # the failed try + one fetch
