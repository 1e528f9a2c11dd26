"""The guards in front of every model_api route: token, Host, Origin, body size; request ids.

In-process over ASGI (no training, score log off): each test builds the app with the setting it
checks, so a guard that is off by default is tested on and off.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from iris_common.logs import JsonFormatter
from model_api.app import create_app
from model_api.config import ApiSettings

from tests.support.bundled import BUNDLED_CSV as CSV


def _client(tmp_path: Path, **settings: object) -> TestClient:
    base = {"data_dir": tmp_path, "scorelog_enabled": False, "allowed_hosts": "testserver"}
    return TestClient(create_app(ApiSettings(**(base | settings))))


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, api_token="tok-one, tok-two") as c:
        yield c


def _assert_error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


# --- bearer token -------------------------------------------------------------------------------


def test_no_token_is_401_everywhere_but_health(secured: TestClient) -> None:
    for method, path in [
        ("GET", "/api/datasets"),
        ("GET", "/api/models"),
        ("GET", "/iris/model/1?fields=1"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("POST", "/iris/datasets"),
    ]:
        r = secured.request(method, path)
        _assert_error(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"] == "Bearer"
    assert secured.get("/health/live").status_code == 200


def test_wrong_token_is_401(secured: TestClient) -> None:
    r = secured.get("/api/datasets", headers={"Authorization": "Bearer tok-three"})
    _assert_error(r, 401, "unauthenticated")
    r = secured.get("/api/datasets", headers={"Authorization": "Basic tok-one"})
    _assert_error(r, 401, "unauthenticated")


def test_each_configured_token_is_200(secured: TestClient) -> None:
    for token in ("tok-one", "tok-two"):
        r = secured.get("/api/datasets", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text


def test_course_routes_take_the_token_as_query_parameter(secured: TestClient) -> None:
    r = secured.post(
        "/iris/datasets?access_token=tok-two", files={"train": ("d.csv", CSV.read_bytes())}
    )
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), int)
    # ... but only the course routes: the JSON API wants the header
    _assert_error(secured.get("/api/datasets?access_token=tok-two"), 401, "unauthenticated")
    _assert_error(secured.get("/iris/model/1?access_token=nope&fields=1"), 401, "unauthenticated")


def test_no_token_configured_means_open(tmp_path: Path) -> None:
    with _client(tmp_path) as c:
        assert c.get("/api/datasets").status_code == 200


# --- Host allow-list (DNS rebinding) ------------------------------------------------------------


def test_foreign_host_is_refused(tmp_path: Path) -> None:
    with _client(tmp_path, allowed_hosts="127.0.0.1,localhost") as c:
        r = c.get("/api/datasets", headers={"Host": "evil.example"})
        _assert_error(r, 400, "host_not_allowed")
        r = c.get("/health/live", headers={"Host": "evil.example:8000"})
        _assert_error(r, 400, "host_not_allowed")
        assert c.get("/api/datasets", headers={"Host": "127.0.0.1:8000"}).status_code == 200
        assert c.get("/api/datasets", headers={"Host": "LOCALHOST"}).status_code == 200


# --- cross-site requests ------------------------------------------------------------------------


def test_foreign_origin_is_refused_on_a_form_post_and_changes_nothing(tmp_path: Path) -> None:
    with _client(tmp_path) as c:
        before = c.get("/api/datasets").json()
        r = c.post(
            "/iris/datasets",
            files={"train": ("d.csv", CSV.read_bytes())},
            headers={"Origin": "https://evil.example"},
        )
        _assert_error(r, 403, "cross_site_refused")
        r = c.post(
            "/iris/datasets",
            data={"train": CSV.read_text()},
            headers={"Sec-Fetch-Site": "cross-site"},  # a browser form post, Origin stripped
        )
        _assert_error(r, 403, "cross_site_refused")
        assert c.get("/api/datasets").json() == before
        # a course client (no Origin, no browser marks) and the API's own page are let through
        r = c.post("/iris/datasets", files={"train": ("d.csv", CSV.read_bytes())})
        assert r.status_code == 200, r.text
        r = c.get("/api/datasets", headers={"Origin": "http://testserver"})
        assert r.status_code == 200, r.text


def test_cors_is_closed_by_default_and_opens_for_listed_origins(tmp_path: Path) -> None:
    preflight = {"Origin": "https://ops.example", "Access-Control-Request-Method": "POST"}
    with _client(tmp_path) as c:
        r = c.options("/api/datasets", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
        assert r.status_code == 403
    with _client(tmp_path / "b", cors_origins="https://ops.example") as c:
        r = c.options("/api/datasets", headers=preflight)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://ops.example"
        r = c.get("/api/datasets", headers={"Origin": "https://ops.example"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://ops.example"
        _assert_error(
            c.get("/api/datasets", headers={"Origin": "https://evil.example"}),
            403,
            "cross_site_refused",
        )


# --- bounded request size -----------------------------------------------------------------------


def test_oversized_body_is_413(tmp_path: Path) -> None:
    with _client(tmp_path, max_request_bytes=4096) as c:
        assert c.get("/api/schema").json()["limits"]["request_bytes"] == {"max": 4096}
        before = c.get("/api/models").json()
        r = c.post("/iris/datasets", files={"train": ("d.csv", CSV.read_bytes())})
        _assert_error(r, 413, "request_too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            for _ in range(10):
                yield b'{"name": "' + b"x" * 1000

        r = c.post(
            "/api/models",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        _assert_error(r, 413, "request_too_large")
        assert c.get("/api/models").json() == before


# --- request ids and metrics --------------------------------------------------------------------


def test_request_id_is_kept_returned_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _client(tmp_path) as c, caplog.at_level(logging.INFO, logger="model_api.access"):
        r = c.get("/api/datasets", headers={"X-Request-ID": "dash-1234"})
        assert r.headers["x-request-id"] == "dash-1234"
        fresh = c.get("/api/datasets").headers["x-request-id"]
        assert len(fresh) == 32 and fresh != "dash-1234"
        bad = c.get("/api/datasets", headers={"X-Request-ID": 'no spaces; or quotes"'})
        assert bad.headers["x-request-id"] != 'no spaces; or quotes"'
    lines = [json.loads(JsonFormatter("model_api").format(rec)) for rec in caplog.records]
    access = [line for line in lines if line["request_id"] == "dash-1234"]
    assert access and access[0]["route"] == "/api/datasets" and access[0]["status"] == 200


def test_metrics_are_behind_the_token_and_list_the_figures(secured: TestClient) -> None:
    auth = {"Authorization": "Bearer tok-one"}
    secured.get("/api/datasets", headers=auth)
    r = secured.get("/metrics", headers=auth)
    assert r.status_code == 200
    text = r.text
    assert (
        'iris_http_request_duration_seconds_count{method="GET",route="/api/datasets",status="200"}'
        in text
    )
    for name in (
        "iris_scores_total",
        "iris_batch_tests_total",
        'iris_training_jobs{state="ready"}',
    ):
        assert name in text
