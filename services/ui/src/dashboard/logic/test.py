"""Logic of the Test page: run a batch test, show its metrics, follow the score log writing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import html, no_update

from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import graph
from dashboard.components.grid import grid
from dashboard.components.layout import error_alert, fmt_pct, fmt_time, kpi
from dashboard.components.model_figures import confusion_figure

PER_CLASS_COLUMNS = ("class", "precision", "recall", "f1", "support")


class Started(NamedTuple):
    """What a click on "Run test" shows."""

    result: Any  # the run's metrics (or no_update)
    run: Any  # its id, remembered for this tab
    alert: Any


class Progress(NamedTuple):
    """How far the run's score log is written."""

    view: Any
    done: bool  # stop polling


def per_class_rows(per_class: Mapping[str, Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Precision/recall/F1/support per class, as table rows."""
    rows = []
    for name, m in (per_class or {}).items():
        rows.append(
            {
                "class": name,
                "precision": fmt_pct(m.get("precision")),
                "recall": fmt_pct(m.get("recall")),
                "f1": fmt_pct(m.get("f1")),
                "support": m.get("support"),
            }
        )
    return rows


def logging_done(logging: Mapping[str, Any] | None, final_states: Collection[str] = ()) -> bool:
    """Writing to the score table is over: every record written/failed, or a final state
    (``logging_final_states`` of ``GET /api/schema``)."""
    if not logging:
        return True
    state = str(logging.get("state") or "")
    total = int(logging.get("total") or 0)
    finished = int(logging.get("written") or 0) + int(logging.get("failed") or 0)
    return state in final_states or (total > 0 and finished >= total and not logging.get("pending"))


def logging_view(logging: Mapping[str, Any] | None, final_states: Collection[str] = ()) -> Any:
    """A progress bar of records written to the score table (what the flagger will read)."""
    if not logging:
        return html.Small("No score log information for this run.", className="text-muted")
    total = int(logging.get("total") or 0)
    written = int(logging.get("written") or 0)
    failed = int(logging.get("failed") or 0)
    pending = int(logging.get("pending") or 0)
    state = str(logging.get("state") or "")
    done = logging_done(logging, final_states)
    bars = [
        dbc.Progress(
            value=100 * written / total if total else 0,
            color="success",
            bar=True,
            label=f"{written} written" if written else "",
            animated=not done,
            striped=not done,
        ),
        dbc.Progress(
            value=100 * failed / total if total else 0,
            color="danger",
            bar=True,
            label=f"{failed} failed" if failed else "",
        ),
    ]
    return html.Div(
        [
            dbc.Progress(bars, className="mb-1 iris-progress", id=ids.Test.LOGGING_BAR),
            html.Small(
                f"{written}/{total} records written to the score table · {pending} pending · "
                f"{failed} failed · state: {state or '—'}",
                className="text-muted",
                id=ids.Test.LOGGING_TEXT,
            ),
        ]
    )


def result_view(run: Mapping[str, Any]) -> list[Any]:
    """KPIs, confusion matrix, per-class table and the logging progress placeholder."""
    flipped = run.get("flipped")
    share = run.get("flip_fraction")
    if isinstance(flipped, list):  # the POST answer lists the rows
        flipped_text = str(len(flipped))
    elif isinstance(share, int | float):  # a run summary only has the share asked for
        flipped_text = f"{share:.0%} of rows"
    else:
        flipped_text = "—"
    kpis = dbc.Row(
        [
            dbc.Col(
                kpi("Accuracy", fmt_pct(run.get("accuracy")), element_id=ids.Test.ACCURACY), md=3
            ),
            dbc.Col(kpi("Rows", str(run.get("rows", "—")), colour="secondary"), md=3),
            dbc.Col(
                kpi("Flipped labels", flipped_text, colour="warning"),
                md=3,
            ),
            dbc.Col(
                kpi(
                    "Run",
                    str(run.get("run_id")),
                    colour="dark",
                    element_id=ids.Test.RUN_ID,
                    small=True,
                ),
                md=3,
            ),
        ],
        className="g-3 mb-3",
    )
    table = grid(
        ids.Test.PER_CLASS,
        [(n.title() if n != "f1" else "F1", n) for n in PER_CLASS_COLUMNS],
        rows=per_class_rows(run.get("per_class")),
    )
    return [
        kpis,
        dbc.Row(
            [
                dbc.Col(
                    graph(
                        figure=confusion_figure(
                            run.get("labels") or [], run.get("confusion_matrix") or []
                        ),
                        id=ids.Test.CONFUSION,
                    ),
                    lg=6,
                ),
                dbc.Col(
                    [
                        html.H6("Per class", className="fw-bold mt-2"),
                        table,
                        html.Small(
                            f"model #{run.get('model_id')} on data set "
                            f"#{run.get('dataset_id')} · {fmt_time(run.get('created_at'))}"
                            " UTC",
                            className="text-muted d-block mt-3",
                        ),
                    ],
                    lg=6,
                ),
            ]
        ),
    ]


def run_test(
    client: ApiClient, model_id: int | None, dataset_id: int | None, flip: Any, seed: Any
) -> Started:
    """POST the test."""
    if model_id is None or dataset_id is None:
        return Started(
            no_update, no_update, error_alert("Choose a ready model and a data set", "Test")
        )
    try:
        share = float(flip or 0)
        if not 0 <= share <= 1:
            raise ValueError
        seed_value = None if seed in (None, "") else int(seed)
    except (TypeError, ValueError):
        wrong = "Flip share must be between 0 and 1 and the seed a whole number"
        return Started(no_update, no_update, error_alert(wrong, "Test"))
    try:
        run = client.run_test(model_id, dataset_id, flip_fraction=share, seed=seed_value)
    except ApiError as exc:
        return Started(no_update, no_update, error_alert(exc, "The test failed"))
    return Started(result_view(run), run.get("run_id"), None)


def show_previous(client: ApiClient, run_id: str | None) -> Any:
    """Coming back to the page: show this tab's last run again (from its summary)."""
    if not run_id:
        return html.P(
            "Run a test to see accuracy, the confusion matrix and per-class metrics.",
            className="text-muted mb-0",
        )
    try:
        return result_view(client.get_run(run_id))
    except ApiError as exc:
        return error_alert(exc, f"Could not load run {run_id}")


def poll_logging(client: ApiClient, run_id: str | None) -> Progress:
    """The logging progress of the run, and whether to stop polling."""
    if not run_id:
        return Progress(None, True)
    try:
        run = client.get_run(run_id)
        final = client.schema()["logging_final_states"]
    except ApiError as exc:
        return Progress(error_alert(exc, "Could not follow the score log"), True)
    logging = run.get("logging")
    return Progress(logging_view(logging, final), logging_done(logging, final))
