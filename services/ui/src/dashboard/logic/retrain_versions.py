"""Logic of the Retrain page's versions card: the versions with lineage, the side-by-side
comparison of two versions, promotion (pure functions of the API client, testable without Dash)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import graph
from dashboard.components.grid import grid
from dashboard.components.layout import error_alert, fmt_pct, fmt_time, info_alert, success_alert
from dashboard.components.model_figures import confusion_figure
from dashboard.components.pickers import Option

Row = dict[str, Any]


class Shown(NamedTuple):
    """The versions card: the grid, the three version pickers, the promoted one."""

    rows: list[Row]
    a_options: list[Option]
    a: Any  # the promoted version, else the first
    b_options: list[Option]
    b: Any  # the newest
    promote_options: list[Option]
    promote: Any  # the newest
    promoted: Any
    alert: Any


# --- versions, comparison, promotion, lineage --------------------------------------------


def versions(
    client: ApiClient, model_id: int | None
) -> tuple[list[Row], list[dict[str, Any]], Any, Any]:
    """(grid rows, version options, promoted version, alert)."""
    if model_id is None:
        return [], [], None, None
    try:
        listing = client.versions(int(model_id))
    except ApiError as exc:
        return [], [], None, error_alert(exc, "Could not read the versions")
    rows = []
    for v in listing["versions"]:
        counts = v.get("candidate_counts") or {}
        rows.append(
            {
                "key": f"v{v['version']}",
                "version": v["version"],
                "promoted": "★ promoted" if v.get("promoted") else "",
                "source": v.get("source"),
                "parent": v.get("parent_version"),
                "base": v.get("base_dataset_id"),
                "candidates": len(v.get("candidates") or []),
                "decisions": ", ".join(f"{n} {d}" for d, n in counts.items() if n),
                "holdout": (v.get("metrics") or {}).get("holdout_accuracy"),
                "created": fmt_time(v.get("created_at")),
            }
        )
    options = [
        {
            "label": f"v{v['version']}" + (" (promoted)" if v.get("promoted") else ""),
            "value": v["version"],
        }
        for v in listing["versions"]
    ]
    return rows, options, listing.get("promoted_version"), None


def shown(client: ApiClient, model_id: int | None) -> Shown:
    """The versions of the run's model, A = the promoted one, B and "promote" = the newest."""
    rows, options, promoted, alert = versions(client, model_id)
    numbers = [o["value"] for o in options]
    a = promoted if promoted in numbers else (numbers[0] if numbers else None)
    latest = max(numbers) if numbers else None
    text = f"Promoted: version {promoted}" if promoted else ""
    badge = html.Span(text, id=ids.Retrain.PROMOTED_TEXT)
    return Shown(rows, options, a, options, latest, options, latest, badge, alert)


def lineage_grid(rows: list[Row]) -> dag.AgGrid:
    columns = [
        ("Candidate", "key"),
        ("Decision", "decision"),
        ("Trained as", "label"),
        ("Actual", "actual"),
        ("Cause", "cause"),
        ("Reviewer", "reviewer"),
    ]
    return grid(ids.Retrain.LINEAGE_GRID, columns, rows=rows, page_size=10)


def lineage_view(
    client: ApiClient, model_id: int | None, selected: Sequence[Mapping[str, Any]] | None
) -> Any:
    if model_id is None or not selected:
        return html.Div("Select a version to see its lineage.", className="text-muted")
    version = int(selected[0]["version"])
    try:
        listing = client.versions(int(model_id))
    except ApiError as exc:
        return error_alert(exc, "Could not read the lineage")
    rec = next((v for v in listing["versions"] if v["version"] == version), None)
    if rec is None:
        return error_alert(f"version {version} is gone", "No lineage")
    facts = [
        ("source", rec.get("source")),
        ("parent version", rec.get("parent_version")),
        ("base data set", rec.get("base_dataset_id")),
        ("weight", rec.get("weight")),
        ("training rows", rec.get("training_rows") or rec.get("trained_rows")),
        ("training set sha256", rec.get("training_set_sha256")),
        ("hyper-parameters", rec.get("params")),
        ("holdout accuracy", fmt_pct((rec.get("metrics") or {}).get("holdout_accuracy"))),
    ]
    cands = rec.get("candidates") or []
    rows = [
        {
            "key": f"{c['partition_key']}/{c['sort_key']}",
            "decision": c["decision"],
            "label": c.get("label"),
            "actual": c.get("actual"),
            "cause": c.get("suspected_cause"),
            "reviewer": c.get("reviewer"),
        }
        for c in cands
    ]
    return html.Div(
        [
            html.H6(f"Lineage of version {version}", id=ids.Retrain.LINEAGE_TITLE),
            html.Ul([html.Li([html.Strong(f"{k}: "), html.Code(str(v))]) for k, v in facts]),
            html.Div(f"{len(cands)} flagged records and their decisions:", className="small"),
            lineage_grid(rows),
        ]
    )


def compare(
    client: ApiClient, model_id: int | None, a: Any, b: Any, dataset_id: Any, exclude: bool
) -> tuple[Any, Any]:
    """(comparison view, alert)."""
    if model_id is None or a is None or b is None or dataset_id is None:
        return None, error_alert("choose two versions and a data set", "Cannot compare")
    body = {
        "versions": [int(a), int(b)],
        "dataset_id": int(dataset_id),
        "exclude_trained": bool(exclude),
    }
    try:
        return comparison_view(client.compare(int(model_id), body)), None
    except ApiError as exc:
        return None, error_alert(exc, "Could not compare")


def per_class_figure(result: Mapping[str, Any]) -> go.Figure:
    fig = go.Figure()
    for version, res in result["results"].items():
        classes = list(res["per_class"])
        fig.add_bar(name=f"v{version}", x=classes, y=[res["per_class"][c]["f1"] for c in classes])
    fig.update_layout(
        barmode="group",
        title_text="F1 per class",
        height=300,
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        yaxis={"range": [0, 1]},
    )
    return fig


_BOLD = "me-3 fw-bold"


def _line(*spans: html.Span, muted: str) -> html.Div:
    """One line of the comparison: its figures, then a muted note on what they mean."""
    return html.Div([*spans, html.Span(muted, className="text-muted")], className="mb-2")


def comparison_view(result: Mapping[str, Any]) -> Any:
    a, b = (str(v) for v in result["versions"])
    ra, rb = result["results"][a], result["results"][b]
    flagged = result["flagged"]
    note = info_alert(result["note"]) if result.get("note") else None
    head = _line(
        html.Span(f"v{a}: {fmt_pct(ra['accuracy'], 2)}", id=ids.Retrain.COMPARE_A, className=_BOLD),
        html.Span(f"v{b}: {fmt_pct(rb['accuracy'], 2)}", id=ids.Retrain.COMPARE_B, className=_BOLD),
        muted=f"on {result['rows']} rows of data set {result['dataset_id']} neither trained on",
    )
    fixed = _line(
        html.Span(f"Flagged records: {flagged['records']} · ", className="me-1"),
        html.Span(
            f"fixed {flagged['fixed_count']}", id=ids.Retrain.FIXED, className="text-success me-2"
        ),
        html.Span(
            f"newly broken {flagged['newly_broken_count']}",
            id=ids.Retrain.BROKEN,
            className="text-danger me-2",
        ),
        muted=f"(v{a} right on {flagged['a_right']}, v{b} on {flagged['b_right']})",
    )
    labels = result["labels"]
    return html.Div(
        [
            note,
            head,
            fixed,
            dbc.Row(
                [
                    dbc.Col(
                        graph(
                            figure=confusion_figure(labels, res["confusion_matrix"]).update_layout(
                                title_text=f"v{version} confusion"
                            ),
                        ),
                        md=6,
                    )
                    for version, res in ((a, ra), (b, rb))
                ]
            ),
            graph(figure=per_class_figure(result)),
        ],
        id=ids.Retrain.COMPARISON_RESULT,
    )


def promote(
    client: ApiClient, model_id: int | None, version: Any, force: bool, reviewer: str | None
) -> Any:
    if model_id is None or version is None:
        return error_alert("choose a version", "Cannot promote")
    body = {
        "version": int(version),
        "force": bool(force),
        "reviewer": (reviewer or "").strip() or "dashboard",
    }
    try:
        out = client.promote(int(model_id), body)
    except ApiError as exc:
        return error_alert(exc, "Promotion refused")
    last = (out.get("promotions") or [{}])[-1]
    forced = " (forced, recorded)" if last.get("forced") else ""
    return success_alert(f"Version {out['promoted_version']} is now promoted{forced}")
