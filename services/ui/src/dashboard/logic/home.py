"""Logic of the Overview page: where things stand, in four headline figures."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc

from dashboard.api import ApiClient, ApiError
from dashboard.components.layout import ACTIVE_STATUSES, error_alert, kpi


def counts(client: ApiClient) -> Any:
    """Data sets, ready models (and how many train), test runs, the latest run's accuracy."""
    try:
        datasets = client.list_datasets()
        models = client.list_models()
        runs = client.list_runs(limit=1)
    except ApiError as exc:
        return error_alert(exc, "The model service is not answering")
    ready = sum(1 for m in models if m.get("status") == "ready")
    busy = sum(1 for m in models if m.get("status") in ACTIVE_STATUSES)
    latest = (runs.get("items") or [{}])[0]
    acc = latest.get("accuracy")
    return dbc.Row(
        [
            dbc.Col(kpi("Data sets", str(len(datasets))), md=3),
            dbc.Col(
                kpi(
                    "Models ready",
                    f"{ready}" + (f" (+{busy} training)" if busy else ""),
                    colour="success",
                ),
                md=3,
            ),
            dbc.Col(kpi("Test runs", str(runs.get("total", 0)), colour="secondary"), md=3),
            dbc.Col(
                kpi(
                    "Latest run accuracy",
                    f"{acc:.1%}" if isinstance(acc, int | float) else "—",
                    colour="info",
                ),
                md=3,
            ),
        ],
        className="g-3",
    )
