"""The local event source mapping: runs the flagger on the score table's stream without AWS.

``python -m infra.esm`` runs it from the environment (:class:`EsmSettings`); tests and the
launcher can use :class:`EsmRunner` directly (``run_forever`` / ``run_until_idle`` / ``stop``).
"""

from infra.esm.checkpoint import RunnerLocked
from infra.esm.runner import EsmRunner
from infra.esm.settings import EsmSettings

__all__ = ["EsmRunner", "EsmSettings", "RunnerLocked"]
