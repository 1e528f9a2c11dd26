"""The Dash app as a whole: its pages, its layout, a callback over HTTP, and what it imports."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from dashboard import config, ids
from dashboard.api import client as api_client
from dashboard.app import PACKAGE_DIR

from tests.support.ui_kit import pointed_plotly_bundle


@pytest.fixture(scope="module")
def app():
    """One app per module: page modules register their callbacks globally on import."""
    from infra.local.dynamodb_local import free_port

    mp = pytest.MonkeyPatch()
    mp.setenv("IRIS_API_URL", f"http://127.0.0.1:{free_port()}")  # nobody answers there
    config.get_settings.cache_clear()
    api_client.get_client.cache_clear()
    from dashboard.app import create_app

    yield create_app()
    mp.undo()
    config.get_settings.cache_clear()
    api_client.get_client.cache_clear()


def test_the_seven_pages_are_registered_in_order(app) -> None:
    import dash

    pages = sorted(dash.page_registry.values(), key=lambda p: p["order"])
    assert [(p["name"], p["path"]) for p in pages] == [
        ("Overview", "/"),
        ("Data", "/data"),
        ("Models", "/models"),
        ("Score", "/score"),
        ("Test", "/test"),
        ("Monitoring", "/monitoring"),
        ("Retrain", "/retrain"),
    ]
    for page in pages:  # every layout builds without the API
        assert page["layout"]() is not None


def test_pages_and_assets_are_served_locally(app) -> None:
    web = app.server.test_client()
    for path in ("/", "/data", "/models", "/score", "/test", "/monitoring"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert b"00-bootstrap-flatly" in response.data  # the bundled CSS, no CDN
    assert web.get("/_dash-layout").status_code == 200


def test_the_bundle_is_served_but_not_in_every_page(app) -> None:
    web = app.server.test_client()
    page = web.get("/data").data.decode()
    assert "05-plotly-bundle.js" in page  # the hook is on every page (a few hundred bytes)
    assert "vendor/" not in page  # the 1.2 MB bundle is not: loaded when a page draws a graph
    served = web.get(
        "/assets/"
        + pointed_plotly_bundle(PACKAGE_DIR / "assets")
        .relative_to(PACKAGE_DIR / "assets")
        .as_posix()
    )
    assert served.status_code == 200
    assert served.data[:200].decode().lstrip().startswith("/**")


def test_only_pages_with_a_graph_in_their_first_view_start_plotly_early(app) -> None:
    page = app.server.test_client().get("/").data.decode()
    hook = page.split("new DashRenderer(", 1)[1].split(");</script>", 1)[0]
    assert "request_pre" in hook and "irisEarlyPlotly" in hook
    pages = json.loads(hook.split("payload, ", 1)[1].split(");", 1)[0])
    assert pages == ["/data", "/models", "/monitoring"]  # not Overview, Score, Test, Retrain


def test_a_callback_over_http_reports_an_unreachable_api(app) -> None:
    payload = {
        "output": "api-status.children",
        "outputs": {"id": "api-status", "property": "children"},
        "inputs": [{"id": "api-status-poll", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["api-status-poll.n_intervals"],
        "state": [],
    }
    response = app.server.test_client().post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    assert "API unreachable" in json.dumps(response.get_json())


def _update(app, outputs, inputs, state=()):
    """POST one callback as the browser does; the answer's ``response`` by id and property."""
    specs = [{"id": i, "property": p} for i, p in outputs]
    payload = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": specs,
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }
    response = app.server.test_client().post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def test_named_outputs_reach_their_components(app) -> None:
    """Callbacks return a dict of named outputs (logic's NamedTuple): each lands where its
    name is wired, here with the API unreachable."""
    rt = ids.Retrain
    out = _update(
        app,
        [
            (rt.RUN, "options"),
            (rt.RUN, "value"),
            (rt.BASE, "options"),
            (rt.COMPARE_DATASET, "options"),
        ],
        [(rt.URL_RUN, "data", "r-1")],
        [(ids.Tab.RUN, "data", None)],
    )
    assert out[rt.RUN] == {"options": [], "value": None}
    assert out[rt.BASE] == {"options": []} and out[rt.COMPARE_DATASET] == {"options": []}
    test = ids.Test
    out = _update(
        app,
        [(test.RESULT, "children"), (test.RUN_ID, "data")],
        [(test.RUN, "id", test.RUN)],
        [(ids.Tab.RUN, "data", None)],
    )
    assert out[test.RUN_ID] == {"data": None}
    assert "Run a test to see accuracy" in json.dumps(out[test.RESULT])


def test_the_dashboard_never_loads_tensorflow_or_model_api() -> None:
    code = (
        "import sys; from dashboard.app import create_app; create_app(); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', "
        "'model_api')); print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _block(app, grid_id: str, request: dict, state_id: str, shown) -> dict:
    """The block a server-side grid's ``getRowsRequest`` (relayed to its ``-request`` store in
    the browser) gets from the server, with ``shown`` in the trigger's store."""
    payload = {
        "output": f"{grid_id}.getRowsResponse",
        "outputs": {"id": grid_id, "property": "getRowsResponse"},
        "inputs": [{"id": f"{grid_id}-request", "property": "data", "value": request}],
        "changedPropIds": [f"{grid_id}-request.data"],
        "state": [{"id": state_id, "property": "data", "value": shown}],
    }
    response = app.server.test_client().post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"][grid_id]["getRowsResponse"]


def test_server_side_grids_fetch_blocks_of_what_their_trigger_shows(
    app, client, fake_api, bundled, monkeypatch
) -> None:
    """``serve_blocks`` answers each page's block requests with its fetch function: the request
    and what the trigger's store holds reach it; before anything is shown: no rows."""
    from dashboard.components import grid
    from dashboard.logic import data as dv

    monkeypatch.setattr(grid, "get_client", lambda: client)
    current, _, _ = dv.load_dataset(client, fake_api.add_dataset(bundled))
    request = {"startRow": 15, "endRow": 30, "sortModel": []}
    data, mon = ids.Data, ids.Monitoring
    block = _block(app, data.TABLE, request, data.CURRENT, current)
    assert block == {"rowData": bundled[15:30], "rowCount": 1200}
    assert _block(app, data.TABLE, request, data.CURRENT, None) == {"rowData": [], "rowCount": 0}
    no_run = _block(app, mon.RECORDS, request, mon.SHOWN, None)
    assert no_run == {"rowData": [], "rowCount": 0}


def test_the_browsers_builtins_are_saved_before_dashs_polyfill(app) -> None:
    """The script that saves parseFloat, trim... runs before the polyfill replaces them
    (assets/vendor/keep-builtins.js), inline; the asset that puts them back is the first."""
    page = app.server.test_client().get("/data").get_data(as_text=True)
    saved, polyfill = page.index("window.irisBuiltins = saved"), page.index("deps/polyfill@")
    assert saved < polyfill
    assets = re.findall(r'src="/assets/([^"?]+)', page)
    assert assets[0] == "01-builtins.js", assets
    assert page.index("/assets/01-builtins.js") < page.index("dash_renderer")
