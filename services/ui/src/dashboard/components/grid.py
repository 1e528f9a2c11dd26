"""The product's one data grid: AG Grid (dash-ag-grid) with one look, for every table.

Every page builds its tables here, so they look and behave alike (compact rows, sortable headers,
one number format, a pager), and a style change is made once. Two row models:

* client side (``rows=...``): the browser holds every row; sorting, filtering and paging run
  there — for the small tables (models, runs, candidates, per-class metrics);
* server side (``server_side=True``): AG Grid's infinite row model asks for one block of rows at
  a time through ``getRowsRequest`` (start row, end row, sort model) and a callback answers with
  ``getRowsResponse``; the browser only ever holds one page — for data sets and score records.
  :func:`block_request` reads such a request, :func:`block_response` answers it, and
  :func:`serve_blocks` answers the requests with the page's fetch function and makes the grid
  ask again (page 1) when what it shows changed. The layout may carry the first page (in
  :func:`block_stores`): the grid's first request is answered from it in the browser, with no
  round trip (the fetch function is not asked for it); later pages and sorts come from the
  server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dash_ag_grid as dag
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc

from dashboard.api import ApiClient, get_client

# one block for the grid: (client, what the trigger holds, the grid's request or None)
FetchBlock = Callable[[ApiClient, Any, Mapping[str, Any] | None], dict[str, Any]]

ROW_HEIGHT = 32
HEADER_HEIGHT = 36
PAGER_HEIGHT = 48
FLEX_COLUMNS = 5  # at most this many columns fill the grid's width; more get a fixed width
WIDE_COLUMN_WIDTH = 130

# Numbers with four significant digits, trailing zeros trimmed (161.8, 0.25, 1.234e+4).
NUMBER_FORMAT = {"function": "params.value == null ? '' : d3.format('.4~g')(params.value)"}

# One look: AG Grid's Quartz theme in the dashboard's font, Flatly's header grey, zebra rows. One
# theme object for every grid of a page (built by the first): AG Grid styles a theme once.
THEME = {
    "function": "window.irisGridTheme = window.irisGridTheme || themeQuartz.withParams({"
    "fontFamily: 'inherit', fontSize: 13, headerBackgroundColor: '#ecf0f1', "
    "headerFontWeight: 700, oddRowBackgroundColor: '#f8f9fa', wrapperBorderRadius: 6, spacing: 6})"
}

# The product's colours for conditional rows and cells (Flatly's danger red, success green...).
DANGER_ROW = {"backgroundColor": "#fdecea"}
DANGER_TEXT = {"color": "#e74c3c"}
STATUS_TEXT = {
    "ready": {"color": "#18bc9c", "fontWeight": "700"},
    "training": {"color": "#3498db", "fontWeight": "700"},
    "failed": {"color": "#e74c3c", "fontWeight": "700"},
}

Column = tuple[str, str] | Mapping[str, Any]


def column_defs(columns: Sequence[Column], numeric: Sequence[str] = ()) -> list[dict[str, Any]]:
    """AG Grid column definitions from ``(header, field)`` pairs or ready dicts; ``numeric``
    fields sort as numbers and show four significant digits."""
    out: list[dict[str, Any]] = []
    for column in columns:
        spec = dict(column) if isinstance(column, Mapping) else {"headerName": column[0]}
        if not isinstance(column, Mapping):
            spec["field"] = column[1]
        if spec.get("field") in numeric:
            spec |= {"type": "numericColumn", "valueFormatter": NUMBER_FORMAT}
        out.append(spec)
    return out


def grid(
    grid_id: str,
    columns: Sequence[Column],
    *,
    rows: Sequence[Mapping[str, Any]] | None = None,
    page_size: int | None = None,
    server_side: bool = False,
    numeric: Sequence[str] = (),
    filterable: bool = False,
    select_single: bool = False,
    select_multi: bool = False,
    row_id: str | None = None,
    row_styles: Sequence[tuple[str, Mapping[str, str]]] = (),
    cell_styles: Mapping[str, Sequence[tuple[str, Mapping[str, str]]]] | None = None,
) -> dag.AgGrid:
    """One grid in the product's style.

    ``page_size`` pages the rows (a pager at the bottom); ``server_side`` uses the infinite row
    model (rows come from a ``getRowsRequest`` callback); ``select_single`` adds a radio-like
    checkbox column and ``selectedRows`` (``select_multi``: checkboxes and a select-all header,
    for bulk actions); ``row_id`` names the field that identifies a row
    (required for selecting rows from a callback); ``row_styles`` and ``cell_styles`` (per
    field) are ``(JS condition on params, CSS style)`` pairs, e.g. :data:`DANGER_ROW`.
    """
    defs = column_defs(columns, numeric)
    for spec in defs:
        rules = (cell_styles or {}).get(str(spec.get("field")))
        if rules:
            spec["cellStyle"] = _conditions(rules)
    options: dict[str, Any] = {
        "rowHeight": ROW_HEIGHT,
        "headerHeight": HEADER_HEIGHT,
        "animateRows": False,
        "suppressCellFocus": True,
        "enableCellTextSelection": True,
        "theme": THEME,
    }
    if page_size:
        options |= {
            "pagination": True,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": False,
        }
    if select_single:
        options["rowSelection"] = {
            "mode": "singleRow",
            "checkboxes": True,
            "enableClickSelection": True,
        }
    if select_multi:
        options["rowSelection"] = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True}
    kwargs: dict[str, Any] = {}
    if server_side:
        size = page_size or 100
        options |= {
            "cacheBlockSize": size,
            "maxBlocksInCache": 10,
            "infiniteInitialRowCount": size,
        }
        kwargs["rowModelType"] = "infinite"
        height = HEADER_HEIGHT + size * ROW_HEIGHT + PAGER_HEIGHT + 4
        style = {"height": f"{height}px", "width": "100%"}
    else:
        options["domLayout"] = "autoHeight"
        kwargs["rowData"] = list(rows or [])
        style = {"width": "100%"}
    if row_id:
        kwargs["getRowId"] = f"params.data.{row_id}"
    if row_styles:
        kwargs["getRowStyle"] = _conditions(row_styles)
    return dag.AgGrid(
        id=grid_id,
        columnDefs=defs,
        defaultColDef={"sortable": True, "resizable": True, "filter": filterable} | _widths(defs),
        dashGridOptions=options,
        columnSize=None,
        className="iris-grid",
        style=style,
        **kwargs,
    )


def _widths(defs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A narrow grid's columns share its width (flex); a wide one's have a fixed width and
    scroll: flex makes AG Grid measure and size every column on first render, which cost the
    Data grid (21 columns) and Monitoring's about a third of their render time."""
    if len(defs) <= FLEX_COLUMNS:
        return {"flex": 1, "minWidth": 100}
    return {"width": WIDE_COLUMN_WIDTH}


def _conditions(rules: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, Any]:
    return {"styleConditions": [{"condition": c, "style": dict(style)} for c, style in rules]}


def block_request(request: Mapping[str, Any] | None, page_size: int) -> tuple[int, int, list]:
    """(first row, end row, sort keys) of an infinite-model request; sort keys are
    ``[{"column_id", "direction"}]`` in the order the user clicked."""
    request = request or {}
    start = max(int(request.get("startRow") or 0), 0)
    end = int(request.get("endRow") or start + page_size)
    keys = [
        {"column_id": str(s.get("colId")), "direction": str(s.get("sort") or "asc")}
        for s in request.get("sortModel") or []
        if s.get("colId")
    ]
    return start, max(end, start), keys


def block_response(rows: Sequence[Mapping[str, Any]], total: int | None) -> dict[str, Any]:
    """The answer to one block request: its rows and the total (``None`` = unknown yet)."""
    return {"rowData": list(rows), "rowCount": total}


def block_stores(grid_id: str, first_block: Mapping[str, Any] | None) -> list[dcc.Store]:
    """The stores :func:`serve_blocks` needs in the page's layout, next to the grid;
    ``first_block`` (a :func:`block_response` for page 1, unsorted) answers the grid's first
    request in the browser."""
    return [
        dcc.Store(id=f"{grid_id}-reset"),
        dcc.Store(id=f"{grid_id}-request"),
        dcc.Store(id=f"{grid_id}-first", data=dict(first_block) if first_block else None),
    ]


def serve_blocks(grid_id: str, trigger: Input, fetch: FetchBlock) -> None:
    """Serve a server-side grid: each block it asks for is ``fetch(client, shown, request)``,
    ``shown`` what ``trigger`` holds (a block request is always answered: AG Grid would wait
    for an unanswered one forever, so ``fetch`` answers "no rows" before there is anything).

    The grid's requests pass through the browser (a clientside callback): the first one is
    answered there when the layout holds the first block. When ``trigger`` changes, the grid
    drops its cached blocks (and an unused first block: it shows what was shown before) and
    asks for page 1 again, from the server."""
    clientside_callback(
        ClientsideFunction(namespace="grid", function_name="relay"),
        Output(f"{grid_id}-request", "data"),
        Output(grid_id, "getRowsResponse", allow_duplicate=True),
        Output(f"{grid_id}-first", "data"),
        Input(grid_id, "getRowsRequest"),
        State(f"{grid_id}-first", "data"),
        prevent_initial_call=True,
    )
    clientside_callback(
        ClientsideFunction(namespace="grid", function_name="reset"),
        Output(f"{grid_id}-reset", "data"),
        trigger,
        Input(grid_id, "id"),
        prevent_initial_call=True,
    )

    @callback(
        Output(grid_id, "getRowsResponse"),
        Input(f"{grid_id}-request", "data"),
        State(trigger.component_id, trigger.component_property),
        prevent_initial_call=True,
    )
    def answer_block(request: Mapping[str, Any] | None, shown: Any) -> dict[str, Any]:
        return fetch(get_client(), shown, request)
