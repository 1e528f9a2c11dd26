"""The tab's memory of the chosen data set and model (``pickers.remember_in_tab``): wired to a
dropdown on the Data page and to a grid on the Models page, and its browser function (run in
Node) picking a remembered choice once, then writing the shown one to the tab's store."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest
from dashboard import ids
from dashboard.components import pickers


@pytest.fixture(scope="module")
def dependencies() -> list[dict[str, Any]]:
    """The callbacks as the browser gets them, from an app built in a fresh process (the first
    app built in a process takes the callbacks the page modules registered on import)."""
    code = (
        "import json; from dashboard.app import create_app; "
        "print(json.dumps(create_app().server.test_client().get('/_dash-dependencies').get_json()))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _memory(dependencies: list[dict[str, Any]], tab_store: str) -> list[list[str]]:
    """The callback that writes ``tab_store``: its outputs and what it reads, as ``id.prop``."""
    (found,) = [c for c in dependencies if f"...{tab_store}.data..." in c["output"]]
    outputs = [o.split("@", 1)[0] for o in found["output"].strip(".").split("...")]
    return [outputs, [f"{i['id']}.{i['property']}" for i in found["inputs"] + found["state"]]]


# the tab's store: (the page's opened store, what is picked, shown, listed) where it is remembered
MEMORIES = {
    ids.Tab.DATASET: (
        ids.Data.OPENED,
        "data-dataset.value",
        "data-current",
        "data-dataset.options",
    ),
    ids.Tab.MODEL: (
        ids.Models.OPENED,
        "models-want.data",
        "models-selected",
        "models-table.rowData",
    ),
}


@pytest.mark.parametrize("tab_store", MEMORIES)
def test_the_data_page_remembers_through_its_dropdown_and_the_models_page_its_grid(
    dependencies: list[dict[str, Any]], tab_store: str
) -> None:
    opened, picked, shown, listed = MEMORIES[tab_store]
    assert _memory(dependencies, tab_store) == [
        [picked, f"{tab_store}.data", f"{opened}.data"],
        [f"{shown}.data", f"{tab_store}.data", listed, f"{opened}.data"],
    ]


def _run_js(key: str, cases: list[list[Any]]) -> list[Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run the browser function")
    script = (
        "const window = {dash_clientside: {no_update: 'skip'}};\n"
        f"const f = {pickers._REMEMBER_JS % {'key': key}};\n"
        f"console.log(JSON.stringify({json.dumps(cases)}.map(c => f(...c))));"
    )
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_remembered_choice_is_picked_once_then_the_shown_one_is_remembered() -> None:
    options = [{"label": "#3", "value": 3}, {"label": "#2", "value": 2}]
    # Data page: the shown store holds the data set's summary (its id in ``id``)
    assert _run_js(
        "value",
        [
            [{"id": 3}, 2, options, None],  # opened: the tab remembers #2, listed: pick it
            [{"id": 3}, 2, options, True],  # later: the one shown (#3) becomes the tab's
            [{"id": 3}, 9, options, None],  # remembered but not listed: keep #3, remember it
            [None, 2, options, None],  # nothing shown yet: pick #2, nothing to remember
            [{"id": 2}, 2, options, True],  # shown is the tab's: nothing written
        ],
    ) == [
        [2, "skip", True],
        ["skip", 3, True],
        ["skip", 3, True],
        [2, "skip", True],
        ["skip", "skip", True],
    ]
    # Models page: the shown store holds the model's id; the grid's rows list them by ``id``
    rows = [{"id": 5, "key": "m5"}, {"id": 4, "key": "m4"}]
    assert _run_js("id", [[5, 4, rows, None], [5, 4, rows, True], [5, 4, [], None]]) == [
        [4, "skip", True],
        ["skip", 5, True],
        ["skip", 5, True],
    ]
