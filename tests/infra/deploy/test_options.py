"""Deployment options from the CDK context: defaults, conversions, and clear refusals."""

from __future__ import annotations

import pytest
from infra.deploy.options import DeployOptionError, DeployOptions

from .conftest import ALLOWED_CIDR


def from_context(**context: object) -> DeployOptions:
    import aws_cdk as cdk

    return DeployOptions.from_context(cdk.App(context=context))


def test_defaults_and_strings_from_the_command_line() -> None:
    options = from_context(allowedCidr=ALLOWED_CIDR)
    assert (options.api_tasks, options.api_cpu, options.api_memory_mib) == (2, 1024, 2048)
    assert options.placeholder_images is False
    # `cdk deploy -c apiTasks=3` passes strings
    options = from_context(allowedCidr=ALLOWED_CIDR, apiTasks="3", placeholderImages="true")
    assert options.api_tasks == 3 and options.placeholder_images is True


def test_the_load_balancer_is_never_opened_by_default() -> None:
    with pytest.raises(DeployOptionError, match="allowedCidr"):
        from_context()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"allowedCidr": "my laptop"}, "allowedCidr must be a network"),
        ({"allowedCidr": "10.0.0.1/8"}, "allowedCidr must be a network"),  # host bits set
        ({"allowedCidr": "2001:db8::/32"}, "IPv4"),
        ({"apiTasks": "0"}, "apiTasks must be 1..20"),
        ({"apiTasks": "two"}, "apiTasks='two' is not a int"),
        ({"apiCpu": "1024", "apiMemoryMib": "1024"}, "not a Fargate size"),
        ({"logRetentionDays": "10"}, "logRetentionDays must be one of"),
        ({"objectPrefix": "/model_api"}, "objectPrefix"),
    ],
)
def test_bad_options_are_refused_with_their_name(context: dict[str, str], message: str) -> None:
    with pytest.raises(DeployOptionError, match=message):
        from_context(**({"allowedCidr": ALLOWED_CIDR} | context))


def test_the_app_exits_with_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `cdk synth`/`cdk deploy` show when allowedCidr is missing: no stack, exit 2."""
    from infra.deploy.app import main

    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    assert main() == 2
    assert "cdk deploy -c allowedCidr=" in capsys.readouterr().err
