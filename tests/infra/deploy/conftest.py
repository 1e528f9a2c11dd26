"""One synthesized stack for every deployment test (synthesis starts a jsii Node process and
takes seconds, so it happens once per session), with placeholder images: no Docker build."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

# Node 20 works with this aws-cdk-lib; silence jsii's end-of-life banner on every import.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.config import InfraSettings

ALLOWED_CIDR = "203.0.113.7/32"  # TEST-NET-3: a documentation address, reaches nothing


@dataclass(frozen=True)
class Synth:
    """The synthesized template and what it was built from."""

    template: Any  # aws_cdk.assertions.Template
    json: dict[str, Any]
    settings: InfraSettings
    stack: Any

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource of one CloudFormation type."""
        return {k: r for k, r in self.json["Resources"].items() if r["Type"] == kind}

    def one(self, kind: str) -> tuple[str, dict[str, Any]]:
        (item,) = self.resources(kind).items()
        return item

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)


@pytest.fixture(scope="session")
def synth() -> Synth:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template
    from infra.deploy.options import DeployOptions
    from infra.deploy.stack import IrisStack

    app = cdk.App(context={"allowedCidr": ALLOWED_CIDR, "placeholderImages": True})
    settings = InfraSettings()
    stack = IrisStack(
        app, "IrisMonitorTest", options=DeployOptions.from_context(app), settings=settings
    )
    template = Template.from_stack(stack)
    return Synth(template=template, json=template.to_json(), settings=settings, stack=stack)
