"""Helpers the dashboard's unit tests share (importable: tests/ui/conftest.py puts this folder on
``sys.path``)."""

from __future__ import annotations

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
