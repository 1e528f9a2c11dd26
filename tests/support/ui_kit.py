"""Helpers the dashboard's unit tests share: the text a component shows, error alerts, assets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dash_bootstrap_components as dbc
from dash import no_update


def text_of(component: Any) -> str:
    """All the text a Dash component tree would show."""
    if component is None or component is no_update:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def is_error(component: Any) -> bool:
    return isinstance(component, dbc.Alert) and component.color == "danger"


def pointed_plotly_bundle(assets: Path) -> Path:
    """The vendored plotly.js bundle that ``assets/05-plotly-bundle.js`` points dcc.Graph at."""
    hook = (assets / "05-plotly-bundle.js").read_text()
    match = re.search(r"'(vendor/plotly-iris-[\d.]+\.min\.js)'", hook)
    assert match, "the hook names no vendored bundle"
    return assets / match.group(1)
