"""The pages' callback logic, called directly with a client talking to the fake model_api."""

from __future__ import annotations

import base64
import json

import dash_bootstrap_components as dbc
import httpx
from dash import no_update
from dashboard import features as ft
from dashboard.logic import data as dv
from dashboard.logic import data_columns as dcol
from dashboard.logic import models as mv
from dashboard.logic import models_forms as mf
from dashboard.logic import monitoring as mon
from dashboard.logic import score as sv
from dashboard.logic import test as tv

from tests.support.ui_kit import is_error, text_of

RUN = "20261125T031509123Z-7f3a"


def upload_contents(path) -> str:
    return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode()


# --- Data ----------------------------------------------------------------------------------


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


# --- Models --------------------------------------------------------------------------------


def test_create_spec_validates_the_form(limits) -> None:
    spec = mf.create_spec(0, "16, 8", "12", 16, "0.005", 0.25, "", limits=limits)
    assert spec == {
        "dataset_id": 0,
        "hidden_layers": [16, 8],
        "epochs": 12,
        "batch_size": 16,
        "learning_rate": 0.005,
        "validation_split": 0.25,
        "seed": None,
    }
    for bad in [
        (None, "10", 5, 32, 0.01, 0.2, None),
        (0, "ten", 5, 32, 0.01, 0.2, None),
        (0, "10", 0, 32, 0.01, 0.2, None),
        (0, "10", 2.5, 32, 0.01, 0.2, None),
        (0, "10", 5, 32, 0.01, 0.95, None),
        (0, "10", 5, 32, 0.01, 0.6, None),  # the API allows at most 0.5
        (0, "10", 5, 32, 2, 0.2, None),  # the API allows at most 1
        (0, "10", 5, 32, 0, 0.2, None),  # and more than 0
        (0, "10", limits["epochs"]["max"] + 1, 32, 0.01, 0.2, None),
        (0, "600", 5, 32, 0.01, 0.2, None),
        (0, "", 5, 32, 0.01, 0.2, None),
    ]:
        try:
            mf.create_spec(*bad, limits=limits)
        except mf.FormError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_a_bad_form_never_reaches_the_api(client, fake_api) -> None:
    alert, chosen = mf.act(
        client, "models-create", None, (0, "10,x", 5, 32, 0.01, 0.2, None), (None, None, None, None)
    )
    assert is_error(alert) and chosen is no_update
    assert [r.url.path for r in fake_api.requests] == ["/api/schema"]  # only the limits read


def test_create_posts_the_spec_and_selects_the_new_model(client, fake_api, bundled) -> None:
    fake_api.add_dataset(bundled[:10])
    alert, chosen = mf.act(
        client, "models-create", None, (0, "10, 10", 5, 32, 0.01, 0.2, 7), (None, None, None, None)
    )
    assert chosen == 0 and "queued" in text_of(alert)
    body = json.loads(fake_api.calls("POST", "/api/models")[0].content)
    assert body["hidden_layers"] == [10, 10] and body["epochs"] == 5 and body["seed"] == 7


def test_retrain_needs_a_selected_model_and_sends_only_what_was_typed(client, fake_api, make):
    alert, _ = mf.act(client, "models-retrain", None, (), (0, None, None, None))
    assert is_error(alert) and "Select a model" in text_of(alert)
    fake_api.models[0] = make.model(0, 0)
    alert, chosen = mf.act(client, "models-retrain", 0, (), (0, 4, "", None))
    assert chosen == 0
    assert json.loads(fake_api.calls("POST", "/api/models/0/train")[0].content) == {
        "dataset_id": 0,
        "epochs": 4,
    }


def test_refresh_keeps_polling_only_while_something_trains(client, fake_api, make) -> None:
    fake_api.models[0] = make.model(0, 0)
    fake_api.models[1] = make.model(1, 0, status="training")
    rows, selected, stop, _alert = mv.refresh(client, None, None, 0)
    assert [r["id"] for r in rows] == [1, 0] and selected == {"ids": ["0"]} and stop is False
    assert rows[0]["epochs"] == "1/3" and rows[1]["holdout_accuracy"] == "95.0%"
    fake_api.models[1]["status"] = "ready"
    _, selected, stop, _ = mv.refresh(client, 1, 0, None)  # a new model wins over the old one
    assert selected == {"ids": ["1"]} and stop is True
    assert mv.selection([{"id": 0, "name": "model-0"}]) == 0 and mv.selection([]) is None
    assert mv.selected_model(selected) == 1 and mv.selected_model({"ids": []}) is None


def test_detail_shows_progress_metrics_and_curves(client, fake_api, make) -> None:
    fake_api.models[0] = make.model(0, 0, status="training")
    body, figure, busy = mv.detail_for(client, 0)
    assert busy is True
    assert "epoch 1/3" in [getattr(c, "label", None) for c in body]
    assert [t.name for t in figure.data] == [
        "loss (train)",
        "loss (validation)",
        "accuracy (train)",
        "accuracy (validation)",
    ]
    body, figure, busy = mv.detail_for(client, 7)
    assert busy is True and is_error(body) and not figure.data


def test_the_models_first_view_shows_the_newest_model_in_the_layout(client, fake_api, make):
    fake_api.models[0] = make.model(0, 0)
    fake_api.models[1] = make.model(1, 0, status="training")
    view = mv.first_view(client)
    assert [r["id"] for r in view["rows"]] == [1, 0] and view["selected_rows"] == {"ids": ["1"]}
    assert view["selected"] == 1 and view["retrain_disabled"] is True
    assert view["poll_disabled"] is False and len(view["figure"].data) == 4
    assert view["dataset_options"] == [] and view["dataset"] is None and not view["form_alert"]
    fake_api.models.clear()  # no model yet: the page still opens, nothing selected
    empty = mv.first_view(client)
    assert empty["rows"] == [] and empty["selected"] is None and empty["poll_disabled"] is True


# --- Score ---------------------------------------------------------------------------------


def test_the_score_form_is_built_from_the_schema_and_waits_for_a_down_api(fake_api) -> None:
    from dashboard.api import ApiClient

    down = [True]

    def transport(request: httpx.Request) -> httpx.Response:
        if down[0]:
            raise httpx.ConnectError("connection refused", request=request)
        return fake_api.handle(request)

    client = ApiClient("http://model-api.test", transport=httpx.MockTransport(transport))
    body, ready = sv.form_inputs(client)
    assert ready is False and is_error(body) and "API not reachable" in text_of(body)
    down[0] = False  # the API came up: the next try builds the form
    body, ready = sv.form_inputs(client)
    schema = client.schema()
    assert ready is True
    controls = [col.children.children[1] for col in body.children]
    assert [c.id for c in controls] == [sv.input_id(n) for n in ft.independent(schema)]
    assert [col.children.children[0].children for col in body.children] == [
        f["label"] for f in schema["independent"]
    ]
    soil = controls[ft.independent(schema).index("soil_type")]
    assert [o["value"] for o in soil.options] == list(schema["soil_types"])
    assert [o["label"] for o in soil.options] == [
        f"{k} · {v}" for k, v in schema["soil_types"].items()
    ]
    client.close()


def test_prefill_takes_the_nine_inputs_of_a_row(client, fake_api, bundled) -> None:
    ident = fake_api.add_dataset(bundled)
    schema = client.schema()
    names = ft.independent(schema)
    values, actual, csv_line, alert = sv.prefill(client, ident, 600, names)
    row = bundled[600]
    expected = [row[n] for n in names]
    expected[names.index("soil_type")] = str(row["soil_type"])
    assert values == expected and alert is None
    assert actual == {"label": "versicolor", "dataset_id": ident, "row": 600}
    assert ft.parse_csv_line(csv_line, 20) == [row[n] for n in schema["feature_order"]]
    _, _, _, alert = sv.prefill(client, ident, 5000, names)
    assert is_error(alert) and "has 1200 rows" in text_of(alert)


def test_the_score_page_opens_prefilled_from_the_newest_data_set(client, fake_api, bundled):
    ident = fake_api.add_dataset(bundled)
    view = sv.first_view(client)
    assert view["dataset"] == ident and view["ready"] is True and view["alert"] is None
    assert view["actual"] == {"label": bundled[0]["species"], "dataset_id": ident, "row": 0}
    names = ft.independent(client.schema())
    controls = [col.children.children[1] for col in view["form"].children]
    shown = {c.id["name"]: c.value for c in controls}
    assert shown == dict(zip(names, sv.prefill(client, ident, 0, names)[0], strict=True))
    assert "derived-table" in view["derived"].className


def test_scoring_the_form_sends_all_twenty_features(client, fake_api, bundled) -> None:
    row = bundled[0]
    names = ft.independent(client.schema())
    values = [row[n] for n in names]
    actual = {"label": "setosa", "row": 0, "dataset_id": 0}
    result = sv.score(client, "score-submit", 0, names, values, None, actual)
    sent = json.loads(fake_api.calls("POST", "/api/models/0/score")[0].content)["features"]
    assert list(sent) == client.schema()["feature_order"]
    assert abs(sent["area_ratios"] - row["area_ratios"]) < 1e-9
    assert "setosa" in text_of(result) and "90.0% confident" in text_of(result)
    figure = result[-1].figure
    assert list(figure.data[0].y) == ["setosa", "versicolor", "virginica"]


def test_scoring_a_csv_line_sends_values_and_bad_input_sends_nothing(client, fake_api, make):
    line = make.csv_path.read_text().splitlines()[1]
    names = ft.independent(client.schema())
    sv.score(client, "score-csv-submit", 0, names, [None] * 9, line, None)
    assert len(json.loads(fake_api.requests[-1].content)["values"]) == 20
    before = len(fake_api.requests)
    assert is_error(sv.score(client, "score-csv-submit", 0, names, [None] * 9, "1,2", None))
    assert is_error(sv.score(client, "score-submit", 0, names, [None] * 9, None, None))
    assert is_error(sv.score(client, "score-submit", None, names, [1] * 9, None, None))
    assert len(fake_api.requests) == before


def test_derived_table_lists_eleven_features_or_says_what_is_missing(bundled, client) -> None:
    row = bundled[0]
    names = ft.independent(client.schema())
    table = sv.derived_table(client, names, [row[n] for n in names])
    assert len(table.children.children) == 11
    first = table.children.children[0].children
    assert first[0].children == "sepal_area" and first[0].title == "sepal_length * sepal_width"
    assert first[1].children == f"{row['sepal_area']:.6g}"
    warning = sv.derived_table(client, names, [*[row[n] for n in names][:-1], None])
    assert isinstance(warning, dbc.Alert) and "Leaf area" in text_of(warning)


# --- Test ----------------------------------------------------------------------------------


def test_run_test_shows_metrics_and_remembers_the_run(client, fake_api, make) -> None:
    fake_api.models[0] = make.model(0, 0)
    body, run_id, alert = tv.run_test(client, 0, 0, "0.2", "11")
    assert run_id == RUN and alert is None
    sent = json.loads(fake_api.calls("POST", "/api/models/0/tests")[0].content)
    assert sent == {"dataset_id": 0, "flip_fraction": 0.2, "seed": 11}
    text = text_of(body)
    assert "80.0%" in text and "Flipped labels 2" in text
    heatmap = body[1].children[0].children.figure.data[0]
    assert [list(r) for r in heatmap.z] == [[3, 1, 0], [0, 3, 0], [1, 0, 2]]
    rows = tv.per_class_rows(fake_api.runs[RUN]["per_class"])
    assert rows[1] == {
        "class": "versicolor",
        "precision": "75.0%",
        "recall": "100.0%",
        "f1": "85.7%",
        "support": 3,
    }


def test_run_test_rejects_a_bad_share_without_calling(client, fake_api) -> None:
    for flip in ("1.5", "-0.1", "abc"):
        _, _, alert = tv.run_test(client, 0, 0, flip, None)
        assert is_error(alert)
    assert fake_api.requests == []


def test_logging_progress_polls_until_the_run_is_written(client, fake_api, make) -> None:
    fake_api.runs[RUN] = make.run(0, 0)
    view, stop = tv.poll_logging(client, RUN)
    assert stop is False and "4/10 records written" in text_of(view)
    fake_api.runs[RUN]["logging"] |= {"written": 10, "pending": 0, "state": "complete"}
    view, stop = tv.poll_logging(client, RUN)
    assert stop is True and "10/10" in text_of(view)
    assert tv.logging_done({"total": 5, "written": 3, "failed": 2, "pending": 0, "state": "x"})
    final = client.schema()["logging_final_states"]
    assert tv.logging_done({"total": 0, "state": "disabled"}, final)
    assert not tv.logging_done({"total": 5, "written": 0, "pending": 5, "state": "writing"}, final)


# --- Monitoring ----------------------------------------------------------------------------


def _seed_run(fake_api, make, flagged: int) -> None:
    fake_api.runs[RUN] = make.run(0, 0)
    fake_api.records[RUN] = [
        make.score_item(RUN, i, "setosa", "versicolor" if i < flagged else "setosa", 0.97)
        for i in range(10)
    ]
    fake_api.candidates[RUN] = [
        fake_api.records[RUN][i] | {"reasons": ["misclassified"], "flagged_at": "2026-11-25T03:16"}
        for i in range(flagged)
    ]


def test_overview_plots_accuracy_and_flagged_share_per_run(client, fake_api, make) -> None:
    _seed_run(fake_api, make, flagged=3)
    figure, table, alert, options, value, summary, shown = mon.overview(client, None, None, None)
    assert alert is None and value == RUN and [o["value"] for o in options] == [RUN]
    # a new selection is drawn from its summary in the list, with no second round trip
    assert shown == {"run_id": RUN, "records": 4, "candidates": 3} and "4/10" in text_of(summary)
    assert [t.name for t in figure.data] == ["accuracy", "flagged share"]
    assert list(figure.data[1].y) == [0.3]
    assert table[0]["flagged"] == 3 and table[0]["flagged_share"] == "30.0%"
    # one GET /api/runs and nothing else: the summaries carry the flagged counts
    assert [r.url.path for r in fake_api.requests] == ["/api/runs"]
    # an unchanged picker is not re-sent (no redraw chain every 10 s)
    _, _, _, same_options, same_value, same_summary, _ = mon.overview(client, RUN, None, options)
    assert same_options is no_update and same_value is no_update and same_summary is no_update


def test_the_first_view_draws_the_newest_run_and_survives_a_failure(client, fake_api, make):
    _seed_run(fake_api, make, flagged=3)
    figure, table, alert, options, value, summary, shown, first, cands, reasons = mon.first_view(
        client
    )
    assert alert is None and value == RUN and table[0]["flagged"] == 3
    assert len(cands) == 3 and (cands, reasons) == mon.candidates_view(client, shown)
    assert shown == {"run_id": RUN, "records": 4, "candidates": 3} and len(figure.data) == 2
    # the records grid's first page comes with the layout (no round trip before rows show)
    assert first == mon.records_block(client, shown, None) and first["rowData"]
    fake_api.fail["GET /api/runs"] = httpx.Response(
        503, json={"error": {"code": "unavailable", "message": "table down", "details": None}}
    )
    figure, table, alert, options, value, summary, shown, first, cands, _ = mon.first_view(client)
    assert "table down" in text_of(alert) and not figure.data
    assert (table, options, value, summary, shown, first, cands) == (
        [],
        [],
        None,
        None,
        None,
        None,
        [],
    )


def test_the_run_picker_prefers_the_users_run_then_the_tabs_then_the_newest(client, fake_api, make):
    older = make.run(0, 0, run_id="20261125T020000000Z-aaaa") | {"created_at": "2026-11-25T02:00Z"}
    fake_api.runs[older["run_id"]] = older
    fake_api.runs[RUN] = make.run(0, 0)
    _, _, _, options, value, _, _ = mon.overview(client, None, None, None)
    assert [o["value"] for o in options] == [RUN, older["run_id"]] and value == RUN
    assert mon.overview(client, None, older["run_id"], None)[4] == older["run_id"]
    assert mon.overview(client, "gone", older["run_id"], None)[4] == older["run_id"]


def test_run_detail_counts_from_the_summary_and_changes_only_when_a_count_did(
    client, fake_api, make
) -> None:
    _seed_run(fake_api, make, flagged=2)
    summary, shown, alert = mon.run_detail(client, RUN, None)
    assert alert is None and shown == {"run_id": RUN, "records": 4, "candidates": 2}
    assert "4/10" in text_of(summary) and "20.0%" in text_of(summary)
    # one small call per tick: the summary, never the candidates or the records
    assert [r.url.path for r in fake_api.requests] == [f"/api/runs/{RUN}"]
    _, unchanged, _ = mon.run_detail(client, RUN, shown)
    assert unchanged is no_update
    _seed_run(fake_api, make, flagged=5)  # the stream caught up
    _, shown, _ = mon.run_detail(client, RUN, shown)
    assert shown["candidates"] == 5


def test_an_unknown_flagged_count_is_shown_as_unknown(make) -> None:
    run = make.run(0, 0) | {"flagged": None, "flagged_share": None}  # retrain table unreadable
    summary, shown = mon.run_view(run, None)
    assert shown["candidates"] is None and "—" in text_of(summary)


def test_candidates_are_listed_with_their_reasons(client, fake_api, make) -> None:
    _seed_run(fake_api, make, flagged=2)
    rows, reasons = mon.candidates_view(client, {"run_id": RUN, "records": 4, "candidates": 2})
    assert rows[0] == {
        "row": 0,
        "predicted": "setosa",
        "actual": "versicolor",
        "probability": 0.97,
        "reasons": "misclassified",
        "flagged_at": "2026-11-25 03:16",
    }
    assert len(rows) == 2 and reasons == "Flag reasons — misclassified: 2"
    assert mon.candidates_view(client, None) == ([], "Flag reasons — none yet")
    # more than one page: the page lists the first one and says so (the rest: Retrain page)
    many = mon.CANDIDATES_SHOWN + 5
    fake_api.candidates[RUN] = [fake_api.candidates[RUN][0]] * many
    rows, reasons = mon.candidates_view(client, {"run_id": RUN, "records": 4, "candidates": many})
    assert len(rows) == mon.CANDIDATES_SHOWN
    assert reasons == (
        f"Flag reasons — misclassified: {mon.CANDIDATES_SHOWN} "
        f"(the first {mon.CANDIDATES_SHOWN}; every candidate on the Retrain page)"
    )


def test_records_are_paged_and_sorted_on_the_server(client, fake_api, make) -> None:
    _seed_run(fake_api, make, flagged=3)
    fake_api.records[RUN] += [
        make.score_item(RUN, i, "virginica", "virginica", 0.5 + i / 100) for i in range(10, 25)
    ]
    shown = {"run_id": RUN, "records": 25, "candidates": 3}
    fake_api.requests.clear()
    block = mon.records_block(client, shown, {"startRow": 0, "endRow": 10, "sortModel": []})
    assert block["rowCount"] == 25 and [r["row"] for r in block["rowData"]] == list(range(10))
    # the first page unsorted is one read of ten records, not the whole run
    assert [r.url.params["limit"] for r in fake_api.requests] == ["10"]
    by_p = [{"colId": "probability", "sort": "asc"}]
    block = mon.records_block(client, shown, {"startRow": 20, "endRow": 30, "sortModel": by_p})
    assert len(block["rowData"]) == 5 and block["rowData"][-1]["probability"] == 0.97
    assert block["rowCount"] == 25
    block = mon.records_block(client, shown, {"startRow": 0, "endRow": 10, "sortModel": by_p})
    assert [r["probability"] for r in block["rowData"]][:2] == [0.6, 0.61]
    # more records than the summary said (still writing): the count follows what was read
    short = {"run_id": RUN, "records": 5, "candidates": 3}
    block = mon.records_block(client, short, {"startRow": 20, "endRow": 30, "sortModel": []})
    assert block["rowCount"] == 25 and len(block["rowData"]) == 5


def test_run_detail_failure_keeps_the_tables(client, fake_api) -> None:
    _, shown, alert = mon.run_detail(client, "nope", {"run_id": "nope"})
    assert shown is no_update and is_error(alert)


def test_a_fully_written_run_is_never_reread_from_the_score_table(client, fake_api, make) -> None:
    _seed_run(fake_api, make, flagged=2)
    fake_api.runs[RUN]["logging"] |= {"written": 10, "pending": 0, "state": "complete"}
    summary, shown, _ = mon.run_detail(client, RUN, None)
    assert shown["records"] == 10 and "10/10" in text_of(summary)
    assert not fake_api.calls("GET", f"/api/runs/{RUN}/records")
