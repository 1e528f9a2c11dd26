"""Logic of the Retrain page: triaged candidates, review decisions, a retraining job, the
comparison of two versions, promotion and lineage. Pure functions of the API client (injected),
so the page's callbacks stay thin and this is testable without Dash."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import html, no_update

from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.layout import error_alert, fmt_pct, info_alert, success_alert
from dashboard.components.pickers import Option, dataset_options

CAUSE_LABELS = {
    "label_error": "label error",
    "model_error": "model error",
    "uncertain": "uncertain",
}
DECISIONS = ("relabel", "keep", "exclude")
Row = dict[str, Any]


class Opened(NamedTuple):
    """The page's pickers as it opens."""

    runs: list[Option]
    run: Any  # the URL's run, else this tab's, else the newest
    base_datasets: list[Option]
    compare_datasets: list[Option]


class RunPicked(NamedTuple):
    """What follows from the chosen run."""

    model: Any
    classes: list[Option]  # the class filter's options
    labels: list[Option]  # the relabel target's options
    tab_run: Any  # remembered for this tab
    job: Any  # a retraining of the run's model still running, to follow
    poll_off: Any


class Candidates(NamedTuple):
    rows: list[Row]
    summary: Any
    alert: Any  # no_update: keep what a decision said


class JobStep(NamedTuple):
    """The retraining card after a click on "Retrain" or a poll."""

    job: Any
    view: Any
    poll_off: Any
    train_off: Any  # the button is off while a job runs
    alert: Any
    versions_changed: Any  # bumped when a job finished: the versions card reloads


def opened(client: ApiClient, url_run: str | None, remembered: str | None) -> Opened:
    try:
        options = run_options(client)
        datasets = dataset_options(client.list_datasets())
    except ApiError:
        return Opened([], None, [], [])
    values = [o["value"] for o in options]
    chosen = next((r for r in (url_run, remembered) if r in values), values[0] if values else None)
    return Opened(options, chosen, datasets, datasets)


def pick_run(client: ApiClient, run_id: str) -> RunPicked:
    """The run's model, its classes, and a retraining of it still running (from another tab,
    or before a restart) to follow."""
    try:
        run = client.get_run(run_id)
        active = active_job(client, run["model_id"])
    except ApiError:
        return RunPicked(None, [], [], no_update, no_update, no_update)
    labels = [{"label": c, "value": c} for c in run.get("labels", [])]
    return RunPicked(run["model_id"], labels, labels, run_id, active, active is None)


def run_options(client: ApiClient) -> list[dict[str, Any]]:
    runs = client.list_runs(limit=100)["items"]
    return [
        {
            "label": f"{r['run_id']} · model {r['model_id']} · acc {fmt_pct(r.get('accuracy'))}",
            "value": r["run_id"],
        }
        for r in runs
    ]


def candidate_row(item: Mapping[str, Any]) -> Row:
    review = item.get("review") or {}
    decided = review.get("decision")
    if decided == "relabel":
        decided = f"relabel → {review.get('label')}"
    return {
        "key": f"{item.get('partition_key')}/{item.get('sort_key')}",
        "partition_key": item.get("partition_key"),
        "sort_key": item.get("sort_key"),
        "row": item.get("position"),
        "actual": item.get("Actual"),
        "predicted": item.get("Class"),
        "probability": item.get("probability"),
        "cause": CAUSE_LABELS.get(str(item.get("suspected_cause")), item.get("suspected_cause")),
        "label_quality": item.get("label_quality"),
        "suggestion": item.get("suggested_label"),
        "why": " ".join(item.get("triage_reasons") or []),
        "flags": ", ".join(item.get("reasons") or []),
        "review": decided or "",
        "reviewer": review.get("reviewer") or "",
    }


def candidates(
    client: ApiClient,
    run_id: str | None,
    cause: str | None,
    reviewed: str | None,
    actual: str | None,
) -> Candidates:
    """Grid rows, a one-line summary, an alert."""
    if not run_id:
        hint = info_alert("Choose a run: its flagged records appear here, triaged.")
        return Candidates([], hint, no_update)
    flt = {"cause": cause or None, "reviewed": reviewed or None, "actual": actual or None}
    try:
        items = client.all_retrain_candidates(run_id, **flt)
        every = client.all_retrain_candidates(run_id) if any(flt.values()) else items
    except ApiError as exc:
        return Candidates([], None, error_alert(exc, "Could not read the candidates"))
    causes = Counter(i.get("suspected_cause") for i in every)
    reviewed_n = sum(1 for i in every if i.get("review"))
    parts = [f"{causes.get(c, 0)} {label}" for c, label in CAUSE_LABELS.items()]
    summary = html.Div(
        [
            html.Strong(f"{len(every)} candidates: "),
            html.Span(", ".join(parts)),
            html.Span(
                f" · {reviewed_n} reviewed, {len(every) - reviewed_n} not",
                id=ids.Retrain.REVIEWED_COUNT,
            ),
            html.Span(f" · showing {len(items)}", className="text-muted"),
        ],
        className="mb-2",
        id=ids.Retrain.SUMMARY_TEXT,
    )
    return Candidates([candidate_row(i) for i in items], summary, no_update)


def decide(
    client: ApiClient,
    action: str,
    run_id: str | None,
    selected: Sequence[Mapping[str, Any]] | None,
    label: str | None,
    reviewer: str | None,
) -> Any:
    """Store decisions (or accept every label-error suggestion); returns an alert."""
    who = (reviewer or "").strip() or "dashboard"
    if not run_id:
        return error_alert("choose a run first", "Nothing to review")
    try:
        if action == "accept":
            out = client.review(
                {"run_id": run_id, "accept_suggestions": "label_error", "reviewer": who}
            )
            return success_alert(f"Accepted {out['count']} label-error suggestions")
        if not selected:
            return error_alert("select candidates in the grid first", "Nothing selected")
        decision = {"relabel": "relabel", "keep": "keep", "exclude": "exclude"}[action]
        reviews = []
        for row in selected:
            one: Row = {
                "partition_key": row["partition_key"],
                "sort_key": row["sort_key"],
                "decision": decision,
            }
            if decision == "relabel" and label:
                one["label"] = label
            reviews.append(one)
        out = client.review({"reviews": reviews, "reviewer": who})
        return success_alert(f"Stored {out['count']} decisions ({decision})")
    except ApiError as exc:
        return error_alert(exc, "Could not store the decisions")


# --- the retraining job -------------------------------------------------------------------


def start_job(
    client: ApiClient,
    run_id: str | None,
    model_id: int | None,
    base: int | None,
    weight: Any,
    epochs: Any,
) -> tuple[Any, Any]:
    """Start a retraining job; returns (job, alert)."""
    if not run_id or model_id is None:
        return None, error_alert("choose a run first", "Cannot retrain")
    body: Row = {"run_ids": [run_id], "weight": int(weight or 1)}
    if base is not None:
        body["base_dataset_id"] = int(base)
    if epochs:
        body["epochs"] = int(epochs)
    try:
        return client.start_version(int(model_id), body), None
    except ApiError as exc:
        return None, error_alert(exc, "Could not start the retraining")


def job_view(job: Mapping[str, Any] | None) -> Any:
    if not job:
        return html.Div("No retraining started from this page yet.", className="text-muted")
    progress = job.get("progress") or {}
    epoch, epochs = progress.get("epoch") or 0, progress.get("epochs") or 0
    value = 100 if job["status"] == "succeeded" else (100 * epoch / epochs if epochs else 0)
    colour = {"succeeded": "success", "failed": "danger"}.get(job["status"], "info")
    text = f"job {job['job_id']} · {job['status']} · {progress.get('stage', '')}"
    if epochs:
        text += f" · epoch {epoch}/{epochs}"
    if job.get("attempts", 0) > 1:
        text += f" · attempt {job['attempts']} (re-queued after a restart)"
    result = job.get("result") or {}
    done = (
        html.Div(
            f"New version {result['version']} (not promoted: compare it, then promote)",
            id=ids.Retrain.JOB_VERSION,
            className="mt-2 fw-bold",
        )
        if result.get("version")
        else None
    )
    error = html.Div(job.get("error"), className="text-danger mt-2") if job.get("error") else None
    return html.Div(
        [
            html.Div(text, id=ids.Retrain.JOB_STATUS, className="small mb-1"),
            dbc.Progress(
                value=value,
                color=colour,
                striped=job["status"] == "running",
                animated=job["status"] == "running",
                style={"height": "10px"},
            ),
            done,
            error,
        ]
    )


def active_job(client: ApiClient, model_id: int) -> Row | None:
    """The model's queued or running retraining, if any (to follow it on this page)."""
    return next((j for j in client.jobs(model_id) if j["status"] in ("queued", "running")), None)


def poll_job(client: ApiClient, job: Mapping[str, Any] | None) -> tuple[Any, bool]:
    """(job, finished) — finished also when there is nothing to poll."""
    if not job:
        return None, True
    try:
        fresh = client.job(str(job["job_id"]))
    except ApiError:
        return job, False
    return fresh, fresh["status"] in ("succeeded", "failed")


def job_step(
    client: ApiClient,
    clicked: bool,
    request: Mapping[str, Any],
    job: Mapping[str, Any] | None,
    changed: int | None,
) -> JobStep:
    """Start a job (``clicked``, with ``request``'s run_id, model_id, base, weight, epochs) or
    follow the one running."""
    if clicked:
        started, alert = start_job(client, **request)
        if started is None:
            return JobStep(no_update, no_update, True, False, alert, no_update)
        return JobStep(started, job_view(started), False, True, None, no_update)
    fresh, finished = poll_job(client, job)
    bump = (changed or 0) + 1 if finished and fresh else no_update
    return JobStep(fresh, job_view(fresh), finished, not finished, no_update, bump)
