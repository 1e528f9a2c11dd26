"""Logic of the Score page: the form built from ``GET /api/schema``, prefilling its inputs, the
derived features, and scoring. Input values travel as lists in the schema's ``independent``
order (the page's inputs are pattern-matched :meth:`ids.Score.input` components)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypedDict

import dash_bootstrap_components as dbc
from dash import html, no_update

from dashboard import features as ft
from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import colour_map, graph
from dashboard.components.layout import error_alert, fmt_pct
from dashboard.components.model_figures import probability_figure
from dashboard.components.pickers import Option, pickers

input_id = ids.Score.input


class Form(NamedTuple):
    form: Any  # the fields, or why the schema could not be read
    ready: bool  # the schema was read (the page stops retrying)


class Prefill(NamedTuple):
    values: list[Any]  # the form's inputs, in the order asked for
    actual: Any  # the row's label and where it came from (a store)
    csv: Any  # the whole row as a CSV line
    alert: Any


class FirstView(TypedDict):
    """The Score page as it opens (:func:`first_view`)."""

    models: list[Option]
    model: Any
    datasets: list[Option]
    dataset: Any
    alert: Any
    actual: Any
    csv: Any
    derived: Any
    form: Any
    ready: bool


def form_inputs(client: ApiClient, values: Mapping[str, Any] | None = None) -> Form:
    """The form's fields from the API's schema (filled with ``values`` by name), and whether it
    was reachable (the page retries until it is: the API may still be starting)."""
    values = values or {}
    try:
        schema = client.schema()
    except ApiError as exc:
        return Form(error_alert(f"{exc} — retrying every few seconds", "API not reachable"), False)
    label_of = ft.labels(schema)
    fields = []
    for spec in schema["independent"]:
        name = spec["name"]
        if name == "soil_type":
            control: Any = dbc.Select(
                id=input_id(name),
                options=[
                    {"label": f"{code} · {label}", "value": str(code)}
                    for code, label in schema["soil_types"].items()
                ],
                value=values.get(name, next(iter(schema["soil_types"]), None)),
            )
        else:
            control = dbc.Input(
                id=input_id(name),
                name=name,
                type="number",
                step=1 if spec.get("integer") else "any",
                debounce=True,
                value=values.get(name),
            )
        fields.append(
            dbc.Col(
                html.Div(
                    [dbc.Label(label_of[name], className="mb-1 small fw-bold"), control],
                ),
                xs=6,
                md=4,
            )
        )
    return Form(dbc.Row(fields, className="g-3 mb-3"), True)


def prefill(client: ApiClient, dataset_id: int | None, row: Any, names: Sequence[str]) -> Prefill:
    """The inputs ``names`` from a data set row, the row's label, the whole row as a CSV line,
    an alert."""
    blank = [no_update] * len(names)
    if dataset_id is None:
        return Prefill(blank, no_update, no_update, None)
    try:
        index = int(row or 0)
        if index < 0:
            raise ValueError
    except (TypeError, ValueError):
        return Prefill(
            blank, no_update, no_update, error_alert("Row must be a whole number ≥ 0", "Prefill")
        )
    try:
        schema = client.schema()
        page = client.dataset_rows(dataset_id, offset=index, limit=1)
    except ApiError as exc:
        return Prefill(blank, no_update, no_update, error_alert(exc, "Could not read the row"))
    rows = page.get("rows") or []
    if not rows:
        total = page.get("total")
        missing = f"Data set #{dataset_id} has {total} rows; row {index} does not exist"
        return Prefill(blank, no_update, no_update, error_alert(missing, "Prefill"))
    record = rows[0]
    inputs = ft.inputs_from_row(record, names)
    values: list[Any] = [inputs.get(name, no_update) for name in names]
    if "soil_type" in inputs:  # the soil select's option values are "0", "1", "2"
        values[list(names).index("soil_type")] = str(int(inputs["soil_type"]))
    csv_line = ",".join(str(record[n]) for n in schema["feature_order"] if n in record)
    actual = {"label": record.get(schema["label"]), "dataset_id": dataset_id, "row": index}
    return Prefill(values, actual, csv_line, None)


def derived_table(client: ApiClient, names: Sequence[str], values: Sequence[Any]) -> Any:
    """The 11 derived features of the typed inputs with their formulas (both from the API), or
    why they cannot be computed yet."""
    try:
        derived = client.schema()["derived"]
        row = ft.full_row(client, dict(zip(names, values, strict=True)))
    except ft.FeatureError as exc:
        return dbc.Alert(str(exc), color="warning", className="mb-0 small")
    except ApiError as exc:
        return error_alert(exc, "Could not compute the derived features")
    body = [
        html.Tr(
            [
                html.Td(f["name"], className="text-muted", title=f["formula"]),
                html.Td(f"{row[f['name']]:.6g}", className="text-end font-monospace"),
            ]
        )
        for f in derived
    ]
    return dbc.Table(
        html.Tbody(body), size="sm", className="mb-0 derived-table", id=ids.Score.DERIVED_TABLE
    )


def score(
    client: ApiClient,
    trigger: str | None,
    model_id: int | None,
    names: Sequence[str],
    values: Sequence[Any],
    csv_line: str | None,
    actual: Mapping[str, Any] | None,
) -> Any:
    """Score the form (inputs ``names`` + derived) or the pasted CSV line; render the result."""
    if model_id is None:
        return error_alert("Choose a ready model first (train one on the Models page)", "Score")
    try:
        if trigger == ids.Score.CSV_SUBMIT:
            width = len(client.schema()["feature_order"])
            result = client.score(model_id, values=ft.parse_csv_line(csv_line or "", width))
            source = "the pasted CSV line"
        else:
            result = client.score(
                model_id,
                features=ft.full_row(client, dict(zip(names, values, strict=True))),
            )
            source = "the form"
    except ft.FeatureError as exc:
        return error_alert(exc, "Check the input")
    except ApiError as exc:
        return error_alert(exc, "Scoring failed")
    return result_view(result, source, actual if trigger != ids.Score.CSV_SUBMIT else None)


def result_view(
    result: Mapping[str, Any], source: str, actual: Mapping[str, Any] | None = None
) -> list[Any]:
    """Predicted class, its probability, the label of the prefilled row if any, and the bars."""
    predicted = str(result.get("class_name"))
    probabilities = {str(k): float(v) for k, v in (result.get("probabilities") or {}).items()}
    colour = colour_map(list(probabilities) or [predicted]).get(predicted, "#2c3e50")
    head: list[Any] = [
        html.Div("Predicted class", className="kpi-title"),
        html.Div(
            predicted, className="predicted-class", style={"color": colour}, id=ids.Score.PREDICTED
        ),
        html.Div(
            f"{fmt_pct(probabilities.get(predicted))} confident · model "
            f"#{result.get('model_id')} · from {source}",
            className="text-muted small",
        ),
    ]
    label = (actual or {}).get("label")
    if label:
        match = label == predicted
        head.append(
            dbc.Badge(
                f"prefilled from row {actual['row']} of data set #{actual['dataset_id']}: "
                f"actual {label}",
                color="success" if match else "danger",
                className="mt-2",
            )
        )
    return [
        html.Div(head, className="mb-2"),
        graph(
            figure=probability_figure(probabilities, predicted),
            id=ids.Score.PROB_GRAPH,
        ),
    ]


def first_view(client: ApiClient) -> FirstView:
    """The page as it opens, built in the layout: the pickers (newest ready model, newest data
    set), the form prefilled from the data set's first row and its derived features — instead
    of three callbacks in a row after load (pickers and form, then prefill, then the derived
    table). A tab that remembers another model or data set switches to it in the browser."""
    chosen = pickers(client, None, None)
    view = FirstView(
        models=chosen.model_options,
        model=chosen.model,
        datasets=chosen.dataset_options,
        dataset=chosen.dataset,
        alert=chosen.alert,
        actual=None,
        csv=None,
        derived=None,
        form=None,
        ready=False,
    )
    dataset = chosen.dataset
    try:
        names = [spec["name"] for spec in client.schema()["independent"]]
    except ApiError:
        names = []
    filled: dict[str, Any] = {}
    if names and dataset is not None:
        values, view["actual"], view["csv"], prefill_alert = prefill(client, dataset, 0, names)
        filled = {n: v for n, v in zip(names, values, strict=True) if v is not no_update}
        view["alert"] = view["alert"] or prefill_alert
        if view["actual"] is no_update:
            view["actual"] = view["csv"] = None
    view["form"], view["ready"] = form_inputs(client, filled)
    if view["ready"] and filled:
        view["derived"] = derived_table(client, names, [filled.get(n) for n in names])
    return view
