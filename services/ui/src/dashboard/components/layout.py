"""The product's look, shared by every page: cards, page headers, headline figures, alerts,
status badges and number formatting. Pure functions, tested directly."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

STATUS_COLOURS: dict[str, str] = {
    "queued": "secondary",
    "training": "info",
    "ready": "success",
    "failed": "danger",
}
ACTIVE_STATUSES = frozenset({"queued", "training"})


def error_alert(error: Exception | str, title: str = "Something went wrong") -> dbc.Alert:
    """What a page shows when a call fails: the API's message, dismissable, page stays usable."""
    text = str(error)
    return dbc.Alert(
        [html.Strong(f"{title}: "), html.Span(text)],
        color="danger",
        dismissable=True,
        className="mb-3 iris-alert",
        is_open=True,
    )


def success_alert(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", dismissable=True, className="mb-3", duration=8000)


def info_alert(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="info", className="mb-3")


def status_badge(status: str | None) -> dbc.Badge:
    text = status or "unknown"
    return dbc.Badge(text, color=STATUS_COLOURS.get(text, "dark"), className="text-uppercase")


def fmt_pct(value: Any, digits: int = 1) -> str:
    return f"{float(value):.{digits}%}" if isinstance(value, int | float) else "—"


def fmt_num(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def fmt_time(value: Any) -> str:
    """ISO-8601 → ``2026-11-25 03:15:09`` (UTC); other values unchanged."""
    if not isinstance(value, str) or "T" not in value:
        return "—" if value is None else str(value)
    return value.replace("T", " ")[:19]


def kpi(
    title: str,
    value: str,
    *,
    colour: str = "primary",
    element_id: str | None = None,
    small: bool = False,
) -> dbc.Card:
    """A small headline figure card (accuracy, rows, flagged...); ``small`` for long ids."""
    size = "kpi-value kpi-value-sm" if small else "kpi-value"
    body = html.Div(value, className=f"{size} text-{colour}")
    if element_id:
        body = html.Div(value, id=element_id, className=f"{size} text-{colour}")
    return dbc.Card(
        dbc.CardBody([html.Div(title, className="kpi-title"), body]), className="kpi-card h-100"
    )


def card(
    title: str, body: Any, *, subtitle: str | None = None, actions: Any = None, **kwargs: Any
) -> dbc.Card:
    """The product's one card style: a titled header (optional actions on the right) and a body."""
    head = [
        html.Div(
            [
                html.H5(title, className="mb-0"),
                html.Small(subtitle, className="text-muted") if subtitle else None,
            ]
        )
    ]
    if actions is not None:
        head.append(html.Div(actions, className="ms-auto"))
    class_name = "iris-card shadow-sm mb-4 " + kwargs.pop("className", "")
    return dbc.Card(
        [
            dbc.CardHeader(html.Div(head, className="d-flex align-items-center gap-2")),
            dbc.CardBody(body),
        ],
        className=class_name.strip(),
        **kwargs,
    )


def labelled(label: str, *controls: Any, html_for: str | None = None, **col: Any) -> dbc.Col:
    """A form column: a small bold label over its controls (``col``: the column's widths)."""
    target = {"html_for": html_for} if html_for else {}
    return dbc.Col([dbc.Label(label, className="small fw-bold mb-1", **target), *controls], **col)


def bottom_aligned(child: Any, **col: Any) -> dbc.Col:
    """A form column whose control (a button, a switch) sits level with the labelled inputs
    beside it (``col``: the column's widths)."""
    return dbc.Col(child, className="d-flex align-items-end", **col)


def page_header(title: str, lead: str) -> html.Div:
    return html.Div([html.H2(title, className="mb-1"), html.P(lead, className="text-muted mb-4")])
