"""The CDK app (``cdk.json`` runs ``python -m infra.deploy.app``): one ``IrisMonitor`` stack.

Account and region come from the standard AWS chain (``CDK_DEFAULT_ACCOUNT``/``_REGION``, set by
the ``cdk`` CLI from your profile); options from the context (``-c allowedCidr=…``).
"""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from infra.deploy.options import DeployOptionError, DeployOptions
from infra.deploy.stack import IrisStack

STACK_NAME = "IrisMonitor"


def build_app(app: cdk.App | None = None) -> cdk.App:
    """The app with its stack (tests call this with an ``App`` carrying their context)."""
    app = app or cdk.App()
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    IrisStack(app, STACK_NAME, options=DeployOptions.from_context(app), env=env)
    return app


def main() -> int:
    try:
        app = build_app()
    except DeployOptionError as exc:
        print(f"infra.deploy: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
