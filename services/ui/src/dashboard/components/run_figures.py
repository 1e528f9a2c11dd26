"""The Monitoring page's figure: accuracy and flagged share of the batch runs over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.figures import ACCENT, DANGER, empty_figure, figure, title


def runs_figure(runs: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Accuracy and flagged share per run over time (oldest left)."""
    points = [r for r in runs if r.get("created_at")]
    if not points:
        return empty_figure("No test runs yet — run one on the Test page", height=320)
    points = sorted(points, key=lambda r: str(r["created_at"]))
    when = [pd.Timestamp(r["created_at"]) for r in points]
    stamps = [t.isoformat() for t in when]
    labels = [f"{r.get('run_id', '')}<br>model {r.get('model_id')}" for r in points]
    traces = [
        {
            "customdata": labels,
            "hovertemplate": "%{customdata}<br>accuracy %{y:.1%}<extra></extra>",
            "line": {"color": ACCENT},
            "mode": "lines+markers",
            "name": "accuracy",
            "x": stamps,
            "y": [r.get("accuracy") for r in points],
            "type": "scatter",
        }
    ]
    shares = [r.get("flagged_share") for r in points]
    if any(s is not None for s in shares):
        traces.append(
            {
                "customdata": labels,
                "hovertemplate": "%{customdata}<br>flagged %{y:.1%}<extra></extra>",
                "line": {"color": DANGER, "dash": "dot"},
                "mode": "lines+markers",
                "name": "flagged share",
                "x": stamps,
                "y": shares,
                "type": "scatter",
            }
        )
    layout: dict[str, Any] = {"yaxis": {"range": [0, 1.02], "tickformat": ".0%"}}
    span = when[-1] - when[0]
    if span < pd.Timedelta(minutes=10):  # a few runs seconds apart: show them in context
        pad = (pd.Timedelta(minutes=10) - span) / 2
        layout["xaxis"] = {"range": [(when[0] - pad).isoformat(), (when[-1] + pad).isoformat()]}
    heading = title("Accuracy and flagged share per run")
    return figure(traces, layout | {"title": heading, "height": 320})
