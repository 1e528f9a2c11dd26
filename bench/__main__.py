"""Run every benchmark (`make bench`), or the ones named: `python -m bench scorelog flagger`.

Each benchmark measures this product against the course's way in the same run and prints its
figures; none of them asserts a time. README.md records the figures they printed.
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = {
    "model_api": "bench.model_api_bench",
    "scorelog": "bench.scorelog_bench",
    "flagger": "bench.flagger_bench",
    "ui": "bench.ui_bench",
    "replicas": "bench.replicas_bench",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        print(f"\n=== benchmark: {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(BENCHMARKS[name]).main()
        print(f"=== {name} done in {time.perf_counter() - started:.1f} s ===", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
