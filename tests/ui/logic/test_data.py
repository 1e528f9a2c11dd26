"""The Data page's logic: uploads, the picker, figures and the server-side grid.
Called directly, with a client talking to the fake model_api (tests/ui/conftest.py)."""

from __future__ import annotations

import base64

import httpx
from dash import no_update
from dashboard.logic import data as dv
from dashboard.logic import data_columns as dcol

from tests.support.ui_kit import is_error, text_of


def upload_contents(path) -> str:
    return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode()


def test_dropping_a_csv_uploads_it_and_selects_the_new_data_set(client, fake_api, make, bundled):
    fake_api.add_dataset(bundled[:30], name="small.csv")
    contents = upload_contents(make.csv_path)
    options, value, alert = dv.refresh_datasets(client, "data-upload", contents, "iris.csv", 0, 0)
    assert value == 1 and [o["value"] for o in options] == [1, 0]  # newest first
    assert "data set #1 with 1200 rows" in text_of(alert)
    # the refresh button (no upload) keeps the user's choice
    _, value, alert = dv.refresh_datasets(client, "data-refresh", contents, "iris.csv", 0, None)
    assert value == 0 and alert is None
    assert len(fake_api.calls("POST", "/api/datasets")) == 1


def test_a_bad_drop_is_an_alert_and_nothing_is_sent(client, fake_api, bundled) -> None:
    fake_api.add_dataset(bundled[:5])
    _options, value, alert = dv.refresh_datasets(
        client, "data-upload", "data:image/png;base64,AAAA", "photo.png", None, None
    )
    assert is_error(alert) and "not a CSV" in text_of(alert)
    assert value == 0 and fake_api.calls("POST", "/api/datasets") == []


def test_a_rejected_upload_shows_the_api_message(client, fake_api) -> None:
    contents = "data:text/csv;base64," + base64.b64encode(b"a,b\n1,2\n").decode()
    _, _, alert = dv.refresh_datasets(client, "data-upload", contents, "x.csv", None, None)
    assert is_error(alert) and "the CSV has no species column" in text_of(alert)


def test_listing_failure_leaves_the_picker_alone(client, fake_api) -> None:
    fake_api.fail["GET /api/datasets"] = httpx.Response(
        503, json={"error": {"code": "unavailable", "message": "storage down", "details": None}}
    )
    options, value, alert = dv.refresh_datasets(client, None, None, None, 3, None)
    assert options is no_update and value is no_update and "storage down" in text_of(alert)


def test_the_first_view_is_the_newest_data_set_drawn_in_the_layout(client, fake_api, bundled):
    fake_api.add_dataset(bundled[:30], name="old.csv")
    newest = fake_api.add_dataset(bundled)
    view = dv.first_view(client)
    assert view["value"] == newest == view["options"][0]["value"]
    assert view["current"]["id"] == newest and "1200 rows" in text_of(view["summary"])
    assert view["choices"][1:] == ("petal_length", "petal_length", "petal_width")
    assert sum(sum(t.y) for t in view["hist"].data) == 1200
    assert sum(len(t.x) for t in view["scatter"].data) == 1200
    assert [c["field"] for c in view["columns"]] == list(bundled[0])
    assert view["rows"]["rowCount"] == 1200 and len(view["rows"]["rowData"]) == dv.TABLE_PAGE_SIZE
    # the model service down: the page still opens, with the error and nothing drawn
    fake_api.fail["GET /api/datasets"] = httpx.Response(
        503, json={"error": {"code": "unavailable", "message": "storage down", "details": None}}
    )
    down = dv.first_view(client)
    assert (
        down["current"] is None
        and down["value"] is None
        and "storage down" in text_of(down["alert"])
    )
    assert not down["hist"].data and not down["scatter"].data


def test_loading_a_data_set_drives_the_controls_figures_and_table(client, fake_api, bundled):
    ident = fake_api.add_dataset(bundled)
    current, strip, remembered = dv.load_dataset(client, ident)
    assert remembered == ident and current["rows"] == 1200
    assert "setosa: 400" in text_of(strip)

    options, hist, x, y = dcol.column_choices(current, None, None, None)
    assert [o["value"] for o in options] == [c for c in bundled[0] if c != "species"]
    assert (hist, x, y) == ("petal_length", "petal_length", "petal_width")
    # valid user choices survive another data set with the same columns; unknown ones reset
    assert dcol.column_choices(current, "elevation", "nope", "sepal_width")[1:] == (
        "elevation",
        "petal_length",
        "sepal_width",
    )

    fake_api.requests.clear()
    hist_fig = dv.histogram_for(client, current, "sepal_width")
    assert [t.name for t in hist_fig.data] == ["setosa", "versicolor", "virginica"]
    assert sum(sum(t.y) for t in hist_fig.data) == 1200  # bin counts, every row once
    assert all(t.type == "bar" for t in hist_fig.data)
    scatter = dv.scatter_for(client, current, "petal_length", "petal_width")
    assert {t.name: len(t.x) for t in scatter.data} == {
        "setosa": 400,
        "versicolor": 400,
        "virginica": 400,
    }
    assert all(t.type == "scatter" for t in scatter.data)  # SVG: no WebGL context
    # neither figure downloaded the rows: bins, and only the two plotted columns
    assert [r.url.path.rsplit("/", 1)[-1] for r in fake_api.requests] == ["histogram", "columns"]
    assert fake_api.requests[-1].url.params.get_list("name") == ["petal_length", "petal_width"]

    block = dv.table_block(client, current, {"startRow": 45, "endRow": 60, "sortModel": []})
    assert block["rowCount"] == 1200 and block["rowData"] == bundled[45:60]
    kinds = {c["field"]: c.get("type") for c in dcol.table_columns(current)}
    assert kinds["species"] is None and kinds["elevation"] == "numericColumn"
    # the page came straight from the API: one small read, not the whole data set
    assert fake_api.requests[-1].url.params["limit"] == "15"


def test_the_grid_sorts_and_pages_on_the_server(client, fake_api, bundled) -> None:
    ident = fake_api.add_dataset(bundled)
    current, _, _ = dv.load_dataset(client, ident)
    sort = [{"colId": "elevation", "sort": "desc"}]
    everything = sorted((r["elevation"] for r in bundled), reverse=True)
    block = dv.table_block(client, current, {"startRow": 0, "endRow": 15, "sortModel": sort})
    assert [r["elevation"] for r in block["rowData"]] == everything[:15]
    last = dv.table_block(client, current, {"startRow": 1185, "endRow": 1200, "sortModel": sort})
    assert [r["elevation"] for r in last["rowData"]] == everything[-15:]
    assert fake_api.requests[-1].url.params.get_list("sort") == ["elevation:desc"]
    assert fake_api.requests[-1].url.params["limit"] == "15"  # one page, sorted by model_api
    # several headers (shift-click): sorted by the first, then the second
    two = [{"colId": "species", "sort": "asc"}, {"colId": "elevation", "sort": "asc"}]
    rows = dv.table_block(client, current, {"startRow": 0, "endRow": 15, "sortModel": two})
    expected = sorted(bundled, key=lambda r: (r["species"], r["elevation"]))[:15]
    assert rows["rowData"] == expected
    # a header that is not a column of this data set is ignored, not sent
    odd = dv.table_block(
        client, current, {"startRow": 0, "endRow": 15, "sortModel": [{"colId": "x"}]}
    )
    assert odd["rowData"] == bundled[:15]


def test_another_data_set_gives_other_columns(client, fake_api, bundled) -> None:
    rows = [
        {"species": r["species"], "elevation": r["elevation"], "leaf": r["leaf_area_cm2"]}
        for r in bundled[:50]
    ]
    ident = fake_api.add_dataset(rows)
    current, _, _ = dv.load_dataset(client, ident)
    options, hist, x, y = dcol.column_choices(current, "petal_length", None, None)
    assert [o["value"] for o in options] == ["elevation", "leaf"]
    assert (hist, x, y) == ("elevation", "elevation", "leaf")


def test_a_missing_data_set_is_an_alert(client) -> None:
    current, strip, remembered = dv.load_dataset(client, 42)
    assert current is None and is_error(strip) and remembered is no_update
