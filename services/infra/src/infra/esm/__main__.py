"""``python -m infra.esm``: run the local event source mapping until SIGTERM/SIGINT.

On a signal the runner stops polling, abandons an in-flight batch without checkpointing it (it is
redelivered on the next start: at-least-once) and exits 0.
"""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

from infra.esm.runner import EsmRunner
from infra.esm.settings import EsmSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    runner = EsmRunner(EsmSettings())

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("infra.esm").info('{"message": "signal %s: stopping"}', signum)
        runner.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.run_forever()


if __name__ == "__main__":
    main()
