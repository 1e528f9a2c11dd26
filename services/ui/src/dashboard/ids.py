"""Every component id of the dashboard, one class per page (a namespace, never instantiated).

Pages, logic, grids and tests name a component through these constants, so an id is spelled
once. The strings themselves are a contract too: ``assets/*.js``, the browser tests and the
benchmark's readiness selectors (``bench/ui_bench.py``) find components by them, so a string is
changed only together with those.
"""

from __future__ import annotations

from typing import Final


class Tab:
    """The app shell (``app.py``): this browser tab's selections, shared by the pages
    (``sessionStorage``), and the navbar's API badge."""

    DATASET: Final = "sel-dataset"
    MODEL: Final = "sel-model"
    RUN: Final = "sel-run"
    API_STATUS: Final = "api-status"
    API_STATUS_POLL: Final = "api-status-poll"

    @staticmethod
    def nav(page_module: str) -> str:
        """The navbar link of a page module (``nav-score`` for ``pages/score.py``)."""
        return f"nav-{page_module.rsplit('.', 1)[-1]}"


class Home:
    KPIS: Final = "home-kpis"


class Data:
    ALERT: Final = "data-alert"
    UPLOAD: Final = "data-upload"
    REFRESH: Final = "data-refresh"
    DATASET: Final = "data-dataset"
    CURRENT: Final = "data-current"  # store: the shown data set's summary
    OPENED: Final = "data-opened"
    SUMMARY: Final = "data-summary"
    SUMMARY_STRIP: Final = "data-summary-strip"
    HIST_COLUMN: Final = "data-hist-col"
    HIST: Final = "data-hist"
    X: Final = "data-x"
    Y: Final = "data-y"
    SCATTER: Final = "data-scatter"
    TABLE: Final = "data-table"  # server-side grid


class Models:
    ALERT: Final = "models-alert"
    LIST_ALERT: Final = "models-list-alert"
    FORM_ALERT: Final = "models-form-alert"
    DATASET: Final = "models-dataset"
    LAYERS: Final = "models-layers"
    EPOCHS: Final = "models-epochs"
    BATCH: Final = "models-batch"
    LR: Final = "models-lr"
    VAL: Final = "models-val"
    SEED: Final = "models-seed"
    CREATE: Final = "models-create"
    RETRAIN: Final = "models-retrain"
    RETRAIN_DATASET: Final = "models-retrain-dataset"
    RETRAIN_EPOCHS: Final = "models-retrain-epochs"
    RETRAIN_BATCH: Final = "models-retrain-batch"
    RETRAIN_LR: Final = "models-retrain-lr"
    TABLE: Final = "models-table"
    SELECTED: Final = "models-selected"  # store: the model shown in the detail
    WANT: Final = "models-want"
    OPENED: Final = "models-opened"
    POLL: Final = "models-poll"
    DETAIL: Final = "models-detail"
    DETAIL_HEAD: Final = "model-detail-head"
    PROGRESS: Final = "model-progress"
    HISTORY: Final = "model-history"


class Score:
    MODEL: Final = "score-model"
    DATASET: Final = "score-dataset"
    ROW: Final = "score-row"
    PREFILL: Final = "score-prefill"
    INPUTS: Final = "score-inputs"
    INPUT_TYPE: Final = "score-in"  # pattern-matched form inputs: {"type": …, "name": feature}
    SCHEMA_RETRY: Final = "score-schema-retry"
    SUBMIT: Final = "score-submit"
    DERIVED: Final = "score-derived"
    DERIVED_TABLE: Final = "score-derived-table"
    CSV: Final = "score-csv"
    CSV_SUBMIT: Final = "score-csv-submit"
    RESULT: Final = "score-result"
    PREDICTED: Final = "score-predicted"
    PROB_GRAPH: Final = "score-prob-graph"
    ACTUAL: Final = "score-actual"  # store: label and origin of the prefilled row
    ALERT: Final = "score-alert"

    @staticmethod
    def input(name: str) -> dict[str, str]:
        """The pattern-matching id of one form input."""
        return {"type": Score.INPUT_TYPE, "name": name}


class Test:
    __test__ = False  # not a pytest class

    MODEL: Final = "test-model"
    DATASET: Final = "test-dataset"
    FLIP: Final = "test-flip"
    SEED: Final = "test-seed"
    RUN: Final = "test-run"
    RUN_ID: Final = "test-run-id"  # store of the run followed (and, in the DOM, its KPI's text)
    POLL: Final = "test-poll"
    ALERT: Final = "test-alert"
    RESULT: Final = "test-result"
    ACCURACY: Final = "test-accuracy"
    CONFUSION: Final = "test-confusion"
    PER_CLASS: Final = "test-per-class"
    LOGGING: Final = "test-logging"
    LOGGING_BAR: Final = "test-logging-bar"
    LOGGING_TEXT: Final = "test-logging-text"
    TO_MONITORING: Final = "test-to-monitoring"


class Monitoring:
    ALERT: Final = "mon-alert"
    RUN: Final = "mon-run"
    REFRESH: Final = "mon-refresh"
    AUTO: Final = "mon-auto"
    POLL: Final = "mon-poll"
    POLL_SLOW: Final = "mon-poll-slow"
    SHOWN: Final = "mon-shown"  # store: the run shown and its counts
    SUMMARY: Final = "mon-summary"
    RUNS_GRAPH: Final = "mon-runs-graph"
    RUNS_TABLE: Final = "mon-runs-table"
    REASONS: Final = "mon-reasons"
    CANDIDATES: Final = "mon-candidates"
    CANDIDATES_COUNT: Final = "mon-candidates-count"
    RECORDS: Final = "mon-records"  # server-side grid
    RECORDS_COUNT: Final = "mon-records-count"
    RETRAIN: Final = "mon-retrain"
    RETRAIN_LINK: Final = "mon-retrain-link"


class Retrain:
    URL_RUN: Final = "rt-url-run"  # store: the run named in the URL (?run_id=)
    RUN: Final = "rt-run"
    MODEL: Final = "rt-model"  # store: the run's model
    CAUSE: Final = "rt-cause"
    REVIEWED: Final = "rt-reviewed"
    CLASS: Final = "rt-class"
    GRID: Final = "rt-grid"
    SUMMARY: Final = "rt-summary"
    SUMMARY_TEXT: Final = "rt-summary-text"
    REVIEWED_COUNT: Final = "rt-reviewed-count"
    CHANGED: Final = "rt-changed"  # store: bumped after each decision
    ACCEPT: Final = "rt-accept"
    RELABEL: Final = "rt-relabel"
    KEEP: Final = "rt-keep"
    EXCLUDE: Final = "rt-exclude"
    LABEL: Final = "rt-label"
    REVIEWER: Final = "rt-reviewer"
    REVIEW_ALERT: Final = "rt-review-alert"
    BASE: Final = "rt-base"
    WEIGHT: Final = "rt-weight"
    EPOCHS: Final = "rt-epochs"
    TRAIN: Final = "rt-train"
    TRAIN_ALERT: Final = "rt-train-alert"
    JOB: Final = "rt-job"  # store: the retraining job followed
    JOB_VIEW: Final = "rt-job-view"
    JOB_STATUS: Final = "rt-job-status"
    JOB_VERSION: Final = "rt-job-version"
    POLL: Final = "rt-poll"
    VERSIONS: Final = "rt-versions"  # grid
    VERSIONS_CHANGED: Final = "rt-versions-changed"  # store: bumped when versions change
    VERSIONS_ALERT: Final = "rt-versions-alert"
    VERSION_A: Final = "rt-va"
    VERSION_B: Final = "rt-vb"
    COMPARE_DATASET: Final = "rt-cmp-ds"
    EXCLUDE_TRAINED: Final = "rt-exclude-trained"
    COMPARE: Final = "rt-compare"
    COMPARISON: Final = "rt-comparison"
    COMPARISON_RESULT: Final = "rt-comparison-result"
    COMPARE_A: Final = "rt-cmp-a"
    COMPARE_B: Final = "rt-cmp-b"
    BROKEN: Final = "rt-broken"
    FIXED: Final = "rt-fixed"
    PROMOTE_VERSION: Final = "rt-pv"
    FORCE: Final = "rt-force"
    PROMOTE: Final = "rt-promote"
    PROMOTED: Final = "rt-promoted"
    PROMOTED_TEXT: Final = "rt-promoted-text"
    LINEAGE: Final = "rt-lineage"
    LINEAGE_TITLE: Final = "rt-lineage-title"
    LINEAGE_GRID: Final = "rt-lineage-grid"
