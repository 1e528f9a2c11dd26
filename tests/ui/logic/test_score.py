"""The Score page's logic: the form from the schema, prefill, derived features, scoring.
Called directly, with a client talking to the fake model_api (tests/ui/conftest.py)."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import httpx
from dashboard import features as ft
from dashboard.logic import score as sv

from tests.support.ui_kit import is_error, text_of


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
