"""What provisioning did: one :class:`Change` per resource, collected in a :class:`ProvisionReport`.

Each ``ensure_*``/``delete_*`` step returns its changes, which the CLI prints and the tests check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

from infra import aws

Action = Literal["created", "updated", "deleted", "unchanged", "absent"]
T = TypeVar("T")


class ProvisioningError(RuntimeError):
    """Provisioning cannot continue; the message says why and what to do."""


@dataclass(frozen=True)
class Change:
    """One resource and what provisioning did to it."""

    action: Action
    kind: str
    name: str
    detail: str = ""

    def __str__(self) -> str:
        tail = f"  ({self.detail})" if self.detail else ""
        return f"{self.action:<9} {self.kind:<8} {self.name}{tail}"


@dataclass
class ProvisionReport:
    """All changes of one ``up`` or ``down`` run, in order."""

    endpoint: str
    with_lambda: bool
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.action in ("created", "updated", "deleted") for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "with_lambda": self.with_lambda,
            "changed": self.changed,
            "changes": [asdict(c) for c in self.changes],
        }


def poll(
    fetch: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str, delay: float = 0.5
) -> T:
    """:func:`infra.aws.poll`, its timeout reported as a :class:`ProvisioningError`."""
    return aws.poll(fetch, done, timeout, what, delay, error=ProvisioningError)
