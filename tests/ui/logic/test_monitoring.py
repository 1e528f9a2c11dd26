"""The Monitoring page's logic: runs over time, a run's counts, candidates, records.
Called directly, with a client talking to the fake model_api (tests/ui/conftest.py)."""

from __future__ import annotations

import httpx
from dash import no_update
from dashboard.logic import monitoring as mon

from tests.support.ui_kit import is_error, text_of

RUN = "20261125T031509123Z-7f3a"


def _add_run(fake_api, make, flagged: int) -> None:
    fake_api.runs[RUN] = make.run(0, 0)
    fake_api.records[RUN] = [
        make.score_item(RUN, i, "setosa", "versicolor" if i < flagged else "setosa", 0.97)
        for i in range(10)
    ]
    fake_api.candidates[RUN] = [
        fake_api.records[RUN][i] | {"reasons": ["misclassified"], "flagged_at": "2026-11-25T03:16"}
        for i in range(flagged)
    ]


def test_overview_plots_accuracy_and_flagged_share_per_run(client, fake_api, make) -> None:
    _add_run(fake_api, make, flagged=3)
    figure, table, alert, options, value, summary, shown = mon.overview(client, None, None, None)
    assert alert is None and value == RUN and [o["value"] for o in options] == [RUN]
    # a new selection is drawn from its summary in the list, with no second round trip
    assert shown == {"run_id": RUN, "records": 4, "candidates": 3} and "4/10" in text_of(summary)
    assert [t.name for t in figure.data] == ["accuracy", "flagged share"]
    assert list(figure.data[1].y) == [0.3]
    assert table[0]["flagged"] == 3 and table[0]["flagged_share"] == "30.0%"
    # one GET /api/runs and nothing else: the summaries carry the flagged counts
    assert [r.url.path for r in fake_api.requests] == ["/api/runs"]
    # an unchanged picker is not re-sent (no redraw chain every 10 s)
    _, _, _, same_options, same_value, same_summary, _ = mon.overview(client, RUN, None, options)
    assert same_options is no_update and same_value is no_update and same_summary is no_update


def test_the_first_view_draws_the_newest_run_and_survives_a_failure(client, fake_api, make):
    _add_run(fake_api, make, flagged=3)
    figure, table, alert, options, value, summary, shown, first, cands, reasons = mon.first_view(
        client
    )
    assert alert is None and value == RUN and table[0]["flagged"] == 3
    assert len(cands) == 3 and (cands, reasons) == mon.candidates_view(client, shown)
    assert shown == {"run_id": RUN, "records": 4, "candidates": 3} and len(figure.data) == 2
    # the records grid's first page comes with the layout (no round trip before rows show)
    assert first == mon.records_block(client, shown, None) and first["rowData"]
    fake_api.fail["GET /api/runs"] = httpx.Response(
        503, json={"error": {"code": "unavailable", "message": "table down", "details": None}}
    )
    figure, table, alert, options, value, summary, shown, first, cands, _ = mon.first_view(client)
    assert "table down" in text_of(alert) and not figure.data
    assert (table, options, value, summary, shown, first, cands) == (
        [],
        [],
        None,
        None,
        None,
        None,
        [],
    )


def test_the_run_picker_prefers_the_users_run_then_the_tabs_then_the_newest(client, fake_api, make):
    older = make.run(0, 0, run_id="20261125T020000000Z-aaaa") | {"created_at": "2026-11-25T02:00Z"}
    fake_api.runs[older["run_id"]] = older
    fake_api.runs[RUN] = make.run(0, 0)
    _, _, _, options, value, _, _ = mon.overview(client, None, None, None)
    assert [o["value"] for o in options] == [RUN, older["run_id"]] and value == RUN
    assert mon.overview(client, None, older["run_id"], None)[4] == older["run_id"]
    assert mon.overview(client, "gone", older["run_id"], None)[4] == older["run_id"]


def test_run_detail_counts_from_the_summary_and_changes_only_when_a_count_did(
    client, fake_api, make
) -> None:
    _add_run(fake_api, make, flagged=2)
    summary, shown, alert = mon.run_detail(client, RUN, None)
    assert alert is None and shown == {"run_id": RUN, "records": 4, "candidates": 2}
    assert "4/10" in text_of(summary) and "20.0%" in text_of(summary)
    # one small call per tick: the summary, never the candidates or the records
    assert [r.url.path for r in fake_api.requests] == [f"/api/runs/{RUN}"]
    _, unchanged, _ = mon.run_detail(client, RUN, shown)
    assert unchanged is no_update
    _add_run(fake_api, make, flagged=5)  # the stream caught up
    _, shown, _ = mon.run_detail(client, RUN, shown)
    assert shown["candidates"] == 5


def test_an_unknown_flagged_count_is_shown_as_unknown(make) -> None:
    run = make.run(0, 0) | {"flagged": None, "flagged_share": None}  # retrain table unreadable
    summary, shown = mon.run_view(run, None)
    assert shown["candidates"] is None and "—" in text_of(summary)


def test_candidates_are_listed_with_their_reasons(client, fake_api, make) -> None:
    _add_run(fake_api, make, flagged=2)
    rows, reasons = mon.candidates_view(client, {"run_id": RUN, "records": 4, "candidates": 2})
    assert rows[0] == {
        "row": 0,
        "predicted": "setosa",
        "actual": "versicolor",
        "probability": 0.97,
        "reasons": "misclassified",
        "flagged_at": "2026-11-25 03:16",
    }
    assert len(rows) == 2 and reasons == "Flag reasons — misclassified: 2"
    assert mon.candidates_view(client, None) == ([], "Flag reasons — none yet")
    # more than one page: the page lists the first one and says so (the rest: Retrain page)
    many = mon.CANDIDATES_SHOWN + 5
    fake_api.candidates[RUN] = [fake_api.candidates[RUN][0]] * many
    rows, reasons = mon.candidates_view(client, {"run_id": RUN, "records": 4, "candidates": many})
    assert len(rows) == mon.CANDIDATES_SHOWN
    assert reasons == (
        f"Flag reasons — misclassified: {mon.CANDIDATES_SHOWN} "
        f"(the first {mon.CANDIDATES_SHOWN}; every candidate on the Retrain page)"
    )


def test_records_are_paged_and_sorted_on_the_server(client, fake_api, make) -> None:
    _add_run(fake_api, make, flagged=3)
    fake_api.records[RUN] += [
        make.score_item(RUN, i, "virginica", "virginica", 0.5 + i / 100) for i in range(10, 25)
    ]
    shown = {"run_id": RUN, "records": 25, "candidates": 3}
    fake_api.requests.clear()
    block = mon.records_block(client, shown, {"startRow": 0, "endRow": 10, "sortModel": []})
    assert block["rowCount"] == 25 and [r["row"] for r in block["rowData"]] == list(range(10))
    # the first page unsorted is one read of ten records, not the whole run
    assert [r.url.params["limit"] for r in fake_api.requests] == ["10"]
    by_p = [{"colId": "probability", "sort": "asc"}]
    block = mon.records_block(client, shown, {"startRow": 20, "endRow": 30, "sortModel": by_p})
    assert len(block["rowData"]) == 5 and block["rowData"][-1]["probability"] == 0.97
    assert block["rowCount"] == 25
    block = mon.records_block(client, shown, {"startRow": 0, "endRow": 10, "sortModel": by_p})
    assert [r["probability"] for r in block["rowData"]][:2] == [0.6, 0.61]
    # more records than the summary said (still writing): the count follows what was read
    short = {"run_id": RUN, "records": 5, "candidates": 3}
    block = mon.records_block(client, short, {"startRow": 20, "endRow": 30, "sortModel": []})
    assert block["rowCount"] == 25 and len(block["rowData"]) == 5


def test_run_detail_failure_keeps_the_tables(client, fake_api) -> None:
    _, shown, alert = mon.run_detail(client, "nope", {"run_id": "nope"})
    assert shown is no_update and is_error(alert)


def test_a_fully_written_run_is_never_reread_from_the_score_table(client, fake_api, make) -> None:
    _add_run(fake_api, make, flagged=2)
    fake_api.runs[RUN]["logging"] |= {"written": 10, "pending": 0, "state": "complete"}
    summary, shown, _ = mon.run_detail(client, RUN, None)
    assert shown["records"] == 10 and "10/10" in text_of(summary)
    assert not fake_api.calls("GET", f"/api/runs/{RUN}/records")
