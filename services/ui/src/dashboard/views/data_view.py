"""Logic of the Data page: decoding uploads, column choices, figures from model_api's
aggregates, and the grid's server-side blocks of rows."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html, no_update

from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import empty_figure, histogram_figure, scatter_figure
from dashboard.components.grid import block_request, block_response, column_defs
from dashboard.components.layout import error_alert, fmt_time, success_alert
from dashboard.components.pickers import dataset_options, pick_value
from dashboard.features import LABEL

TABLE_PAGE_SIZE = 15
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadError(ValueError):
    """The dropped file cannot be sent (not a CSV, unreadable, too large)."""


def decode_upload(contents: str | None, filename: str | None) -> bytes:
    """dcc.Upload hands over ``data:<mime>;base64,<payload>``; return the raw file bytes."""
    if not contents:
        raise UploadError("No file received")
    if filename and not filename.lower().endswith((".csv", ".txt")):
        raise UploadError(f"{filename!r} is not a CSV file")
    _, _, payload = contents.partition(",")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UploadError("The file could not be read") from exc
    if not raw.strip():
        raise UploadError(f"{filename or 'The file'} is empty")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{filename or 'The file'} is larger than {MAX_UPLOAD_BYTES >> 20} MB")
    return raw


def summary_of(dataset: Mapping[str, Any]) -> dict[str, Any]:
    """What the page keeps about the loaded data set (no rows: those stay on the server)."""
    return {
        "id": int(dataset["id"]),
        "name": dataset.get("name"),
        "rows": dataset.get("rows"),
        "columns": list(dataset.get("columns") or []),
        "class_counts": dict(dataset.get("class_counts") or {}),
        "created_at": dataset.get("created_at"),
    }


def numeric_columns(current: Mapping[str, Any] | None) -> list[str]:
    """Plot-able columns come from the data set itself (never hard-coded): all but the label."""
    columns = list((current or {}).get("columns") or [])
    return [c for c in columns if c != LABEL]


def column_choices(
    current: Mapping[str, Any] | None, hist: str | None, x: str | None, y: str | None
) -> tuple[list[dict[str, str]], str | None, str | None, str | None]:
    """Options for the three column dropdowns and their values, keeping valid user choices."""
    numeric = numeric_columns(current)
    options = [{"label": c, "value": c} for c in numeric]
    if not numeric:
        return [], None, None, None

    def keep(value: str | None, default_index: int) -> str:
        if value in numeric:
            return str(value)
        return numeric[min(default_index, len(numeric) - 1)]

    defaults = {
        name: numeric.index(name) for name in ("petal_length", "petal_width") if name in numeric
    }
    return (
        options,
        keep(hist, defaults.get("petal_length", 0)),
        keep(x, defaults.get("petal_length", 0)),
        keep(y, defaults.get("petal_width", 1)),
    )


def table_columns(current: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Grid columns of the data set, in its order: numbers right-aligned with four digits."""
    columns = list((current or {}).get("columns") or [])
    numeric = set(numeric_columns(current))
    return column_defs([(c, c) for c in columns], numeric=[c for c in columns if c in numeric])


def class_count_text(current: Mapping[str, Any]) -> str:
    counts = current.get("class_counts") or {}
    return " · ".join(f"{k}: {v}" for k, v in counts.items()) or "no label column"


# --- callback bodies (the page's callbacks only add ``get_client()`` and ``ctx``) -------------


def refresh_datasets(
    client: ApiClient,
    trigger: str | None,
    contents: str | None,
    filename: str | None,
    current: int | None,
    remembered: int | None,
) -> tuple[Any, Any, Any]:
    """Fill the picker; after a drop, upload the file first and select the new data set."""
    alert: Any = None
    new_id: int | None = None
    if trigger == "data-upload" and contents:
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
        return no_update, no_update, error_alert(exc, "Could not list data sets")
    return options, pick_value(options, new_id, current, remembered), alert


def load_dataset(client: ApiClient, dataset_id: int | None) -> tuple[Any, Any, Any]:
    """The chosen data set's summary (for the store), a summary strip, and the tab selection."""
    if dataset_id is None:
        return None, None, no_update
    try:
        current = summary_of(client.get_dataset(dataset_id))
    except ApiError as exc:
        return None, error_alert(exc, "Could not load the data set"), no_update
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
        id="data-summary-strip",
    )
    return current, strip, current["id"]


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


def first_view(client: ApiClient) -> dict[str, Any]:
    """What the page shows when it opens (the newest data set, its figures, grid columns and
    the grid's first page),
    built in the layout itself: no chain of callbacks after load (picker → summary → figures),
    which on two busy cores costs a round trip each. The tab's remembered data set, if it is
    another, is selected afterwards in the browser and redraws through the usual chain."""
    view: dict[str, Any] = {"options": [], "value": None, "alert": None, "current": None}
    view |= {"summary": None, "choices": ([], None, None, None), "columns": [], "rows": None}
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
