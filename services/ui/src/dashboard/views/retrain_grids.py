"""The Retrain page's grids (the product's one grid component): candidates (multi-select for
bulk decisions), versions (one selected → its lineage), a version's lineage."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

from dashboard.components.grid import grid

LABEL_ERROR = [("params.value == 'label error'", {"color": "#e74c3c", "fontWeight": "bold"})]


def candidates_grid() -> dag.AgGrid:
    columns = [
        ("Row", "row"),
        ("Actual", "actual"),
        ("Predicted", "predicted"),
        ("P", "probability"),
        ("Cause", "cause"),
        ("Label quality", "label_quality"),
        ("Suggestion", "suggestion"),
        ("Decision", "review"),
        {"headerName": "Why", "field": "why", "minWidth": 320, "tooltipField": "why"},
        ("Flags", "flags"),
    ]
    return grid(
        "rt-grid",
        columns,
        page_size=15,
        numeric=("row", "probability", "label_quality"),
        filterable=True,
        select_multi=True,
        row_id="key",
        cell_styles={"cause": LABEL_ERROR},
    )


def versions_grid() -> dag.AgGrid:
    columns = [
        ("Version", "version"),
        ("", "promoted"),
        ("Source", "source"),
        ("Parent", "parent"),
        ("Base data set", "base"),
        ("Candidates", "candidates"),
        ("Decisions", "decisions"),
        ("Holdout acc.", "holdout"),
        ("Created (UTC)", "created"),
    ]
    return grid("rt-versions", columns, numeric=("holdout",), select_single=True, row_id="key")


def lineage_grid(rows: list[dict[str, Any]]) -> dag.AgGrid:
    columns = [
        ("Candidate", "key"),
        ("Decision", "decision"),
        ("Trained as", "label"),
        ("Actual", "actual"),
        ("Cause", "cause"),
        ("Reviewer", "reviewer"),
    ]
    return grid("rt-lineage-grid", columns, rows=rows, page_size=10)
