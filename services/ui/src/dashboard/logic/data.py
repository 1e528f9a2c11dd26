"""Logic of the Data page: the picker (:func:`pick`: upload, list, load), figures from model_api's
aggregates and the grid's server-side blocks of rows (the pure column helpers:
:mod:`dashboard.logic.data_columns`)."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypedDict

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html, no_update

from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.data_figures import histogram_figure, scatter_figure
from dashboard.components.figures import empty_figure
from dashboard.components.grid import block_request, block_response
from dashboard.components.layout import error_alert, fmt_time, success_alert
from dashboard.components.pickers import Option, dataset_options, pick_value
from dashboard.logic.data_columns import (
    Choices,
    UploadError,
    class_count_text,
    column_choices,
    decode_upload,
    summary_of,
    table_columns,
)

TABLE_PAGE_SIZE = 15


class Listed(NamedTuple):
    """The data set picker."""

    options: Any
    value: Any
    alert: Any


class Loaded(NamedTuple):
    current: Any  # the data set's summary (the page's store), None if none
    summary: Any  # the strip above the figures, or why it failed
    tab: Any  # the data set for this tab's selection


class Picked(NamedTuple):
    """What :func:`pick` redraws: the picker, the loaded data set, the columns everywhere."""

    dataset_options: Any
    dataset: Any
    alert: Any
    current: Any
    summary: Any
    hist_options: Any
    hist: Any
    x_options: Any
    x: Any
    y_options: Any
    y: Any
    columns: Any  # the grid's column definitions


class FirstView(TypedDict):
    """The Data page as it opens (:func:`first_view`)."""

    options: list[Option]
    value: Any
    alert: Any
    current: Any
    summary: Any
    choices: Choices
    columns: list[dict[str, Any]]
    rows: Any  # the grid's first block, or None
    hist: Any
    scatter: Any


# --- callback bodies (the page's callbacks only add ``get_client()`` and ``ctx``) -------------


def pick(
    client: ApiClient,
    trigger: str | None,
    upload: tuple[str | None, str | None],
    chosen: int | None,
    remembered: int | None,
    shown: tuple[str | None, str | None, str | None],
) -> Picked:
    """Fill the picker (a dropped file, ``upload`` = (contents, filename), is uploaded first
    and then selected) and load the chosen data set's summary, its columns as the dropdowns'
    options (never hard-coded; ``shown`` = the histogram, x and y columns kept if they still
    exist) and the grid's columns; figures and grid redraw from these outputs."""
    picker = Listed(no_update, no_update, no_update)
    dataset_id = chosen
    if trigger != ids.Data.DATASET:  # page load, refresh or upload: list the data sets first
        picker = refresh_datasets(client, trigger, *upload, chosen, remembered)
        if picker.value is not no_update:
            dataset_id = picker.value
        if dataset_id == chosen:
            return Picked(*picker, *([no_update] * 9))  # same data set: nothing to redraw
    current, strip, _ = load_dataset(client, dataset_id)
    choices = column_choices(current, *shown)
    return Picked(
        *picker,
        current,
        strip,
        choices.options,
        choices.hist,
        choices.options,
        choices.x,
        choices.options,
        choices.y,
        table_columns(current),
    )


def refresh_datasets(
    client: ApiClient,
    trigger: str | None,
    contents: str | None,
    filename: str | None,
    current: int | None,
    remembered: int | None,
) -> Listed:
    """Fill the picker; after a drop, upload the file first and select the new data set."""
    alert: Any = None
    new_id: int | None = None
    if trigger == ids.Data.UPLOAD and contents:
        try:
            raw = decode_upload(contents, filename)
            created = client.upload_dataset(filename or "upload.csv", raw, name=filename)
            new_id = int(created["id"])
            alert = success_alert(
                f"Uploaded {filename}: data set #{new_id} with {created.get('rows')} rows."
            )
        except (ApiError, UploadError) as exc:
            alert = error_alert(exc, "Upload failed")
    try:
        options = dataset_options(client.list_datasets())
    except ApiError as exc:
        return Listed(no_update, no_update, error_alert(exc, "Could not list data sets"))
    return Listed(options, pick_value(options, new_id, current, remembered), alert)


def load_dataset(client: ApiClient, dataset_id: int | None) -> Loaded:
    """The chosen data set's summary (for the store), a summary strip, and the tab selection."""
    if dataset_id is None:
        return Loaded(None, None, no_update)
    try:
        current = summary_of(client.get_dataset(dataset_id))
    except ApiError as exc:
        return Loaded(None, error_alert(exc, "Could not load the data set"), no_update)
    strip = html.Div(
        [
            dbc.Badge(f"#{current['id']}", color="primary", className="me-2"),
            html.Strong(current["name"] or "unnamed", className="me-3"),
            html.Span(
                f"{current['rows']} rows · {len(current['columns'])} columns", className="me-3"
            ),
            html.Span(class_count_text(current), className="text-muted me-3"),
            html.Small(f"added {fmt_time(current['created_at'])} UTC", className="text-muted"),
        ],
        className="summary-strip mb-4",
        id=ids.Data.SUMMARY_STRIP,
    )
    return Loaded(current, strip, current["id"])


def histogram_for(
    client: ApiClient, current: Mapping[str, Any] | None, column: str | None
) -> go.Figure:
    """The histogram from model_api's bin counts (not from the rows)."""
    if not current:
        return empty_figure("Choose or upload a data set")
    if not column:
        return empty_figure("Choose a column")
    try:
        bins = client.dataset_histogram(current["id"], column)
    except ApiError as exc:
        return empty_figure(f"Could not load the histogram: {exc.message}")
    return histogram_figure(bins)


def scatter_for(
    client: ApiClient, current: Mapping[str, Any] | None, x: str | None, y: str | None
) -> go.Figure:
    """The scatter from only the two plotted columns (and the labels)."""
    if not current:
        return empty_figure("Choose or upload a data set")
    if not x or not y:
        return empty_figure("Choose x and y columns")
    try:
        data = client.dataset_columns(current["id"], [x, y])
    except ApiError as exc:
        return empty_figure(f"Could not load the columns: {exc.message}")
    return scatter_figure(data, x, y)


def table_block(
    client: ApiClient, current: Mapping[str, Any] | None, request: Mapping[str, Any] | None
) -> dict[str, Any]:
    """One block of rows for the grid's infinite row model: sorted (by every clicked header)
    and paged by model_api, so the browser and this process only ever hold one page."""
    if not current:
        return block_response([], 0)
    start, end, keys = block_request(request, TABLE_PAGE_SIZE)
    sort = [f"{k['column_id']}:{k['direction']}" for k in keys]
    columns = set(current.get("columns") or [])
    sort = [s for s, k in zip(sort, keys, strict=True) if k["column_id"] in columns]
    try:
        page = client.dataset_rows(current["id"], offset=start, limit=end - start, sort=sort)
    except ApiError:
        return block_response([], 0)
    return block_response(page.get("rows") or [], int(page.get("total") or 0))


def first_view(client: ApiClient) -> FirstView:
    """What the page shows when it opens (the newest data set, its figures, grid columns and
    the grid's first page),
    built in the layout itself: no chain of callbacks after load (picker → summary → figures),
    which on two busy cores costs a round trip each. The tab's remembered data set, if it is
    another, is selected afterwards in the browser and redraws through the usual chain."""
    view = FirstView(
        options=[],
        value=None,
        alert=None,
        current=None,
        summary=None,
        choices=Choices([], None, None, None),
        columns=[],
        rows=None,
        hist=None,
        scatter=None,
    )
    try:
        view["options"] = dataset_options(client.list_datasets())
    except ApiError as exc:
        view["alert"] = error_alert(exc, "Could not list data sets")
    else:
        view["value"] = pick_value(view["options"])
        view["current"], view["summary"], _ = load_dataset(client, view["value"])
    current = view["current"]
    if current is None:  # a placeholder only when needed: a plotly.py figure costs ~15 ms
        view["hist"] = view["scatter"] = empty_figure("Choose or upload a data set")
        return view
    view["choices"] = choices = column_choices(current, None, None, None)
    view["columns"] = table_columns(current)
    with ThreadPoolExecutor(3) as pool:  # the figures' and the grid's calls side by side
        hist = pool.submit(histogram_for, client, current, choices[1])
        scatter = pool.submit(scatter_for, client, current, choices[2], choices[3])
        rows = pool.submit(table_block, client, current, None)  # page 1: no round trip later
        view["hist"], view["scatter"] = hist.result(), scatter.result()
        view["rows"] = rows.result()
    return view
