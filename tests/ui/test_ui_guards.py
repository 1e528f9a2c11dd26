"""The dashboard's guards (login with the token setting on, Host, cross-site) and the request id
and token it sends to model_api.

model_api's side is played by a real HTTP server on loopback that records what it received.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from dashboard import config
from dashboard.api import client as api_client

from tests.support.http_kit import JsonHandler, serving

TOKEN = "ui-test-token-1"


class _Recorder(JsonHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_json(200, [])


@pytest.fixture(scope="module")
def recorder() -> Iterator[str]:
    with serving(_Recorder) as url:
        yield url


@pytest.fixture(scope="module")
def server(recorder: str):
    """The dashboard's Flask server with the token setting on."""
    mp = pytest.MonkeyPatch()
    mp.setenv("IRIS_API_URL", recorder)
    mp.setenv("IRIS_API_TOKEN", f"{TOKEN},another")
    mp.setenv("IRIS_ALLOWED_HOSTS", "localhost,127.0.0.1")
    config.get_settings.cache_clear()
    api_client.get_client.cache_clear()
    from dash import _callback
    from dashboard.app import create_app

    app = create_app()
    # Dash moves the page callbacks out of its global registry into the first app that serves a
    # request; give them back afterwards so an app built by a later test module still has them.
    saved = list(_callback.GLOBAL_CALLBACK_LIST), dict(_callback.GLOBAL_CALLBACK_MAP)
    yield app.server
    _callback.GLOBAL_CALLBACK_LIST[:] = saved[0]
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_MAP.update(saved[1])
    mp.undo()
    config.get_settings.cache_clear()
    api_client.get_client.cache_clear()


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_login_is_required_when_the_token_is_set(server) -> None:
    c = server.test_client()
    assert c.get("/").status_code == 401
    assert c.get("/", headers=_basic("iris", "wrong")).status_code == 401
    assert c.get("/", headers=_basic("iris", TOKEN)).status_code == 200
    assert c.get("/health").status_code == 200  # the container probe needs no login


def test_foreign_host_is_refused(server) -> None:
    c = server.test_client()
    r = c.get("/", headers={"Host": "evil.example:8050"} | _basic("iris", TOKEN))
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "host_not_allowed"


def test_foreign_origin_cannot_drive_a_callback(server) -> None:
    c = server.test_client()
    headers = {"Origin": "https://evil.example", "Content-Type": "application/json"}
    r = c.post("/_dash-update-component", data="{}", headers=headers | _basic("iris", TOKEN))
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "cross_site_refused"


def test_calls_to_model_api_carry_the_token_and_the_request_id(server) -> None:
    _Recorder.seen.clear()
    with server.test_request_context("/", headers={"X-Request-ID": "click-42"}):
        server.preprocess_request()
        api_client.get_client().list_datasets()
    assert _Recorder.seen, "model_api was not called"
    headers = _Recorder.seen[-1]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-request-id"] == "click-42"


def test_no_login_without_the_setting() -> None:
    assert config.UiSettings(api_token=None).ui_user_table() == {}
    assert config.UiSettings(api_token="t1,t2").ui_user_table() == {"iris": "t1"}
    assert config.UiSettings(api_token="t1", ui_users="ann:pw1,bo:pw2").ui_user_table() == {
        "ann": "pw1",
        "bo": "pw2",
    }
    assert config.UiSettings(api_token="t1", ui_auth="proxy").ui_user_table() == {}
