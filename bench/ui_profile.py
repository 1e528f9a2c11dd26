"""Where a dashboard page's first render goes: the profile half of ``python -m bench ui``.

For one load of each page it records, in the browser, every Dash callback request (in the order
they were sent: its outputs, when it started, how long the round trip took, the bytes of its
answer) and Chromium's own counters (script, layout and style time); and, between the dashboard
and model_api, every HTTP call the dashboard made (a counting proxy in this process: method,
route, bytes, time). The proxy adds a little latency, so the timed loads never go through it.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

# Injected before the page's own scripts: wraps fetch to log each Dash callback request.
FETCH_HOOK = """
window.__irisCallbacks = [];
const irisFetch = window.fetch;
window.fetch = async function (url, opts) {
  const start = performance.now();
  const response = await irisFetch.apply(this, arguments);
  if (String(url).includes('_dash-update-component')) {
    let output = '';
    try { output = JSON.parse(opts.body).output; } catch (e) {}
    response.clone().text().then(text => window.__irisCallbacks.push(
      {output: output, start: start, ms: performance.now() - start, bytes: text.length}));
  }
  return response;
};
// Milestones of the first render: when each kind of content first appeared (ms after navigation).
window.__irisMarks = {};
const irisMilestones = {
  layout: '#_pages_content > *', plotly: null, graph: '.js-plotly-plot .main-svg',
  grid: '.ag-root',
};
new MutationObserver(function () {
  for (const [name, sel] of Object.entries(irisMilestones)) {
    if (window.__irisMarks[name]) continue;
    if (sel ? document.querySelector(sel) : window.Plotly && window.Plotly.newPlot) {
      window.__irisMarks[name] = Math.round(performance.now());
    }
  }
}).observe(document, {subtree: true, childList: true});
"""
_CDP_METRICS = ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration")
_RUN_ID = re.compile(r"\d{8}T\d{9}Z-[0-9a-f]+")
_NUMBER = re.compile(r"/\d+(?=/|$)")


def route_of(path: str) -> str:
    """``/api/runs/20261125T031509123Z-7f3a/records`` → ``/api/runs/{run}/records``."""
    return _NUMBER.sub("/{id}", _RUN_ID.sub("{run}", path.split("?", 1)[0]))


def callback_name(output: str) -> str:
    """Dash's ``..a.children...b.data..`` output string → ``a.children+b.data``."""
    parts = [p for p in output.strip(".").split("...") if p]
    return "+".join(p.strip(".") for p in parts)[:70]


@dataclass
class ApiCall:
    start: float
    route: str
    status: int
    bytes: int
    ms: float


@dataclass
class CountingProxy:
    """A tiny threaded HTTP proxy to model_api that remembers every call it forwards."""

    target: str
    calls: list[ApiCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def since(self, start: float) -> list[ApiCall]:
        with self.lock:
            return [c for c in self.calls if c.start >= start]


@contextmanager
def counting_proxy(target: str, port: int) -> Iterator[CountingProxy]:
    proxy = CountingProxy(target)
    client = httpx.Client(base_url=target, timeout=120)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # quiet
            return

        def _forward(self) -> None:
            start = time.perf_counter()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
            upstream = client.request(self.command, self.path, content=body, headers=headers)
            payload = upstream.content
            self.send_response(upstream.status_code)
            for key, value in upstream.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            call = ApiCall(
                start,
                f"{self.command} {route_of(self.path)}",
                upstream.status_code,
                len(payload),
                (time.perf_counter() - start) * 1000,
            )
            with proxy.lock:
                proxy.calls.append(call)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        client.close()


@dataclass
class PageProfile:
    path: str
    seconds: float
    callbacks: list[dict[str, Any]]
    api_calls: list[ApiCall]
    browser_ms: dict[str, float]
    marks: dict[str, float] = field(default_factory=dict)
    script_ms: dict[str, float] = field(default_factory=dict)


def _cdp_metrics(driver: Any) -> dict[str, float]:
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return {m["name"]: float(m["value"]) for m in metrics if m["name"] in _CDP_METRICS}


def profile_page(
    driver: Any, url: str, path: str, render: Any, proxy: CountingProxy
) -> PageProfile:
    """One load of the page with the fetch hook and Chromium's counters on."""
    driver.get("about:blank")
    before = _cdp_metrics(driver)
    driver.execute_cdp_cmd("Profiler.start", {})
    start = time.perf_counter()
    seconds = render(driver, url, path)
    script_ms = _script_self_ms(driver.execute_cdp_cmd("Profiler.stop", {})["profile"])
    marks = driver.execute_script("return window.__irisMarks || {}")
    time.sleep(0.3)  # let the last callback's answer be logged
    callbacks = driver.execute_script("return window.__irisCallbacks || []")
    after = _cdp_metrics(driver)
    browser = {k: (after.get(k, 0.0) - before.get(k, 0.0)) * 1000 for k in _CDP_METRICS}
    ended = start + seconds
    calls = [c for c in proxy.since(start) if c.start <= ended]
    inside = [c for c in callbacks if c["start"] <= seconds * 1000]
    return PageProfile(path, seconds, inside, calls, browser, marks, script_ms)


def _script_self_ms(profile: dict[str, Any]) -> dict[str, float]:
    """JavaScript self time per script file, from V8's sampling profile of the load."""
    files = {}
    for node in profile["nodes"]:
        url = node["callFrame"]["url"].split("?", 1)[0]
        name = re.sub(r"\.v[\d_]+m\d+", "", url.rsplit("/", 1)[-1])  # Dash's cache-busting tag
        files[node["id"]] = name or node["callFrame"]["functionName"] or "(native)"
    out: Counter[str] = Counter()
    for sample, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        out[files[sample]] += delta / 1000
    return dict(out)


def install(driver: Any) -> None:
    driver.execute_cdp_cmd("Performance.enable", {})
    driver.execute_cdp_cmd("Profiler.enable", {})
    driver.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 500})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FETCH_HOOK})


def print_profiles(profiles: list[PageProfile]) -> None:
    """The findings, page by page: what fired in which order and where the time went."""
    print("\nProfile of one first render per page (through a counting proxy to model_api)")
    header = (
        f"{'page':<12}{'render s':>9}{'callbacks':>10}{'cb KB':>7}{'api calls':>10}"
        f"{'api KB':>8}{'api ms':>8}{'JS ms':>7}{'layout+style ms':>16}"
    )
    print(header)
    print("-" * len(header))
    for p in profiles:
        cb_kb = sum(c["bytes"] for c in p.callbacks) / 1024
        api_kb = sum(c.bytes for c in p.api_calls) / 1024
        api_ms = sum(c.ms for c in p.api_calls)
        layout = p.browser_ms["LayoutDuration"] + p.browser_ms["RecalcStyleDuration"]
        print(
            f"{p.path:<12}{p.seconds:>9.3f}{len(p.callbacks):>10}{cb_kb:>7.1f}"
            f"{len(p.api_calls):>10}{api_kb:>8.1f}{api_ms:>8.0f}"
            f"{p.browser_ms['ScriptDuration']:>7.0f}{layout:>16.0f}"
        )
    for p in profiles:
        print(f"\n{p.path}: callbacks in the order sent (start ms after navigation, round trip)")
        for c in sorted(p.callbacks, key=lambda c: c["start"]):
            print(
                f"  {c['start']:>7.0f} ms  {c['ms']:>6.0f} ms  {c['bytes'] / 1024:>6.1f} KB  "
                f"{callback_name(c['output'])}"
            )
        routes: dict[str, list[ApiCall]] = defaultdict(list)
        for call in p.api_calls:
            routes[call.route].append(call)
        counts = Counter({r: len(v) for r, v in routes.items()})
        print(
            "  model_api calls: "
            + (
                ", ".join(
                    f"{r} x{n} ({sum(c.bytes for c in routes[r]) / 1024:.1f} KB, "
                    f"{sum(c.ms for c in routes[r]):.0f} ms)"
                    for r, n in counts.most_common()
                )
                or "none"
            )
        )
        marks = " → ".join(f"{k} {v:.0f}" for k, v in sorted(p.marks.items(), key=lambda kv: kv[1]))
        print(f"  first seen (ms): {marks} → content {p.seconds * 1000:.0f}")
        busy = sorted(
            ((k, v) for k, v in p.script_ms.items() if k not in ("(idle)", "(program)")),
            key=lambda kv: -kv[1],
        )
        print(
            "  JS self time by file (ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in busy[:6])
            + f"; browser-native (program) {p.script_ms.get('(program)', 0):.0f}"
        )
        server = sum(c["ms"] for c in p.callbacks)
        print(
            f"  time: {p.seconds * 1000:.0f} ms to content; callback round trips add up to "
            f"{server:.0f} ms (model_api {sum(c.ms for c in p.api_calls):.0f} ms of it); "
            f"browser script {p.browser_ms['ScriptDuration']:.0f} ms, layout+style "
            f"{p.browser_ms['LayoutDuration'] + p.browser_ms['RecalcStyleDuration']:.0f} ms"
        )
