"""The compose tier's fixtures: the stack that scripts/test-compose.sh brought up.

These tests drive a running ``docker compose`` stack through its published ports, so they run
only inside that script (``make test-compose``), which sets ``IRIS_COMPOSE_*``. Collected any
other way they fail with a message saying so: they never skip themselves into green.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class ComposeStack:
    """Where the stack answers, and the compose command that manages it."""

    api_url: str
    ui_url: str
    aws_url: str
    compose: list[str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.compose, *args], capture_output=True, text=True, check=check, timeout=900
        )


@pytest.fixture(scope="session")
def stack() -> ComposeStack:
    missing = [
        name
        for name in ("IRIS_COMPOSE_CMD", "IRIS_API_PORT", "IRIS_UI_PORT", "IRIS_AWS_PORT")
        if not os.environ.get(name)
    ]
    if missing:
        pytest.fail(f"run these through `make test-compose` (unset: {', '.join(missing)})")
    return ComposeStack(
        api_url=f"http://127.0.0.1:{os.environ['IRIS_API_PORT']}",
        ui_url=f"http://127.0.0.1:{os.environ['IRIS_UI_PORT']}",
        aws_url=f"http://127.0.0.1:{os.environ['IRIS_AWS_PORT']}",
        compose=shlex.split(os.environ["IRIS_COMPOSE_CMD"]),
    )
