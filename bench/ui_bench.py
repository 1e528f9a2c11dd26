"""Dashboard benchmark: each page's first render with the bundled data set once the services are
warm (headless Chromium: navigation → the page's content visible), and the UI process's RSS.

Two servers of the same app are measured in the same run: the product's (``python -m dashboard``,
waitress) and the course's way (Dash's built-in Flask development server, ``app.run()``).
The stack (DynamoDB Local, stream runner, model_api) comes from the launcher on free ports with a
temporary data directory; a small model is trained and one batch test run so every page has data.
Then one more load of each page is profiled (``bench/ui_profile.py``): callbacks in order, HTTP
calls to model_api, bytes, and where the time went.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support.browser import chrome
from tests.support.launcher import start_launcher, stop
from tests.support.waits import wait_http

REPO = Path(__file__).resolve().parents[1]
REPEATS = 5

# What "content visible" means per page: the elements a user looks at, filled with data. A
# selector ending in ``:text`` must also have text (a grid's cell, not its loading row).
PAGES: dict[str, list[str]] = {
    "/": ["#home-kpis .kpi-card"],
    "/data": [
        "#data-hist .trace",
        "#data-scatter .legend .traces",
        "#data-table .ag-cell[col-id='species']:text",
    ],
    "/models": ["#models-table .ag-cell[col-id='name']:text", "#model-history .trace"],
    "/score": ["#score-derived-table tr"],
    "/test": ["#test-model .dash-dropdown-value-item"],
    "/monitoring": ["#mon-records .ag-cell[col-id='predicted']:text", "#mon-runs-graph .trace"],
}
_READY_JS = """
return arguments[0].every(function (sel) {
  const text = sel.endsWith(':text');
  const found = document.querySelectorAll(text ? sel.slice(0, -5) : sel);
  return text ? Array.from(found).some(e => e.innerText.trim()) : found.length > 0;
});
"""
TARGET_S = 1.0
TARGET_RATIO = 1.8


def _free_port() -> int:
    from infra.local.dynamodb_local import free_port

    return free_port()


@contextlib.contextmanager
def _stack(data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """DynamoDB Local + stream runner + model_api from the launcher (no UI)."""
    ports = {k: str(_free_port()) for k in ("IRIS_AWS_PORT", "IRIS_API_PORT")}
    launcher, env, log = start_launcher(data_dir, ports, "--no-ui")
    api = f"http://127.0.0.1:{ports['IRIS_API_PORT']}"
    try:
        wait_http(f"{api}/health/ready", launcher, 240, log, interval=0.5)
        yield api, env
    finally:
        stop(launcher)


def _prepare_data(api: str) -> None:
    """A trained model and one logged batch test, so every page shows real content."""
    with httpx.Client(base_url=api, timeout=120) as http:
        model = http.post("/api/models", json={"dataset_id": 0, "epochs": 5, "seed": 1}).json()
        deadline = time.monotonic() + 300
        while http.get(f"/api/models/{model['id']}").json()["status"] != "ready":
            if time.monotonic() > deadline:
                raise TimeoutError("training did not finish")
            time.sleep(1)
        run = http.post(
            f"/api/models/{model['id']}/tests",
            json={"dataset_id": 0, "flip_fraction": 0.1, "seed": 1},
        ).json()
        deadline = time.monotonic() + 180
        while http.get(f"/api/runs/{run['run_id']}").json()["logging"]["state"] != "complete":
            if time.monotonic() > deadline:
                break
            time.sleep(1)


def _start_ui(
    kind: str, api: str, env: dict[str, str], data_dir: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    ui_env = env | {"IRIS_API_URL": api, "IRIS_UI_PORT": str(port)}
    if kind == "waitress":
        cmd = [sys.executable, "-m", "dashboard"]
    else:  # the course's way: Dash's built-in Flask development server
        cmd = [
            sys.executable,
            "-c",
            "import os; from dashboard.app import create_app; "
            "create_app().run(host='127.0.0.1', port=int(os.environ['IRIS_UI_PORT']), "
            "debug=False)",
        ]
    log = open(data_dir / f"ui-{kind}.log", "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        cmd, cwd=REPO, env=ui_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/", process, 60, data_dir / f"ui-{kind}.log", interval=0.5)
    return process, url


def _rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident set size of a process, in MB (Linux /proc)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _browser() -> Any:
    return chrome(tempfile.mkdtemp(prefix="iris-bench-chromium-"))


def _render_seconds(driver: Any, url: str, path: str) -> float:
    """Navigation start → every content selector of the page matches."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    start = time.perf_counter()
    driver.get(url + path)
    WebDriverWait(driver, 60, poll_frequency=0.01).until(
        lambda d: d.execute_script(_READY_JS, PAGES[path])
    )
    return time.perf_counter() - start


def _profiles(api: str, env: dict[str, str], data_dir: Path) -> list[Any]:
    """One profiled load per page, the dashboard talking to model_api through the proxy."""
    from bench import ui_profile

    with ui_profile.counting_proxy(api, port := _free_port()) as proxy:
        process, url = _start_ui("waitress", f"http://127.0.0.1:{port}", env, data_dir)
        driver = _browser()
        try:
            ui_profile.install(driver)
            for path in PAGES:  # warm-up, as for the timed loads
                _render_seconds(driver, url, path)
            return [
                ui_profile.profile_page(driver, url, path, _render_seconds, proxy) for path in PAGES
            ]
        finally:
            driver.quit()
            stop(process)


def _measure(driver: Any, url: str) -> dict[str, list[float]]:
    for path in PAGES:  # warm-up: browser cache, server code paths, API connection pool
        _render_seconds(driver, url, path)
    return {path: [_render_seconds(driver, url, path) for _ in range(REPEATS)] for path in PAGES}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="iris-ui-bench-") as tmp:
        data_dir = Path(tmp)
        with _stack(data_dir) as (api, env):
            _prepare_data(api)
            results: dict[str, dict[str, list[float]]] = {}
            rss: dict[str, tuple[float, float]] = {}
            driver = _browser()
            try:
                for kind in ("waitress", "flask-dev"):
                    process, url = _start_ui(kind, api, env, data_dir)
                    try:
                        results[kind] = _measure(driver, url)
                        rss[kind] = _rss_mb(process.pid)
                    finally:
                        stop(process)
            finally:
                driver.quit()
            profiles = _profiles(api, env, data_dir)

    print(
        f"\nDashboard first render per page (bundled 1,200-row data set, warm services; "
        f"median and max of {REPEATS} full page loads, seconds)"
    )
    header = f"{'page':<13}" + "".join(
        f"{kind + ' median':>19}{kind + ' max':>16}{'x Overview':>12}" for kind in results
    )
    print(header)
    print("-" * len(header))
    for path in PAGES:
        cells = ""
        for k in results:
            median = statistics.median(results[k][path])
            ratio = median / statistics.median(results[k]["/"])
            cells += f"{median:>19.3f}{max(results[k][path]):>16.3f}{ratio:>12.2f}"
        print(f"{path:<13}{cells}")
    product = results["waitress"]
    overview = statistics.median(product["/"])
    worst = max(PAGES, key=lambda p: statistics.median(product[p]))
    slowest = statistics.median(product[worst])
    print(
        f"product: slowest page {worst} {slowest:.3f} s (target < {TARGET_S:.1f} s: "
        f"{'met' if slowest < TARGET_S else 'NOT met'}), at most "
        f"{max(statistics.median(product[p]) / overview for p in PAGES):.2f}x Overview "
        f"(target ≤ {TARGET_RATIO}x: "
        f"{'met' if slowest / overview <= TARGET_RATIO else 'NOT met'})"
    )
    print("\nUI process memory (MB)            RSS now   peak RSS")
    for kind, (now, peak) in rss.items():
        label = (
            "python -m dashboard (waitress)"
            if kind == "waitress"
            else "course's way (Flask dev server)"
        )
        print(f"{label:<32}{now:>9.1f}{peak:>11.1f}")
    from bench.ui_profile import print_profiles

    print_profiles(profiles)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\ntarget: every page < 1 s and ≤ 1.8x Overview; UI process < 200 MB RSS  (load average "
        f"now: {load} "
        f"on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
