"""``python -m infra.esm``: run the local event source mapping until SIGTERM/SIGINT.

On a signal the runner stops polling, abandons an in-flight batch without checkpointing it (it is
redelivered on the next start: at-least-once) and exits 0.

``python -m infra.esm replay`` sends the records in the on-failure file through the function once
more (after the cause was fixed) and keeps only those that still fail.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from types import FrameType

from iris_common.logs import configure

from infra.esm.checkpoint import RunnerLocked
from infra.esm.exporter import serve as serve_metrics
from infra.esm.replay import replay_failures
from infra.esm.runner import EsmRunner
from infra.esm.settings import EsmSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.esm", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["run", "replay"], default="run")
    parser.add_argument(
        "--packaged",
        action="store_true",
        help="invoke the deployment zip under Python 3.12 with boto3 only, as Lambda runs it",
    )
    args = parser.parse_args(argv)
    configure("stream-runner", stream=sys.stdout)
    settings = EsmSettings()
    if args.packaged:
        settings = settings.model_copy(update={"esm_packaged": True})
    runner = EsmRunner(settings)
    if args.command == "replay":
        report = replay_failures(
            runner.destination,
            runner.handler,
            runner.settings.function_name,
            runner.settings.esm_batch_size,
        )
        print(json.dumps(report.as_dict()))
        return 0 if report.still_failing == 0 else 1

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("infra.esm").info("signal %d: stopping", signum)
        runner.stop()

    if runner.settings.esm_metrics_port:
        serve_metrics(runner, runner.settings.host, runner.settings.esm_metrics_port)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        runner.run_forever()
    except RunnerLocked as exc:
        print(json.dumps({"level": "ERROR", "message": str(exc)}), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
