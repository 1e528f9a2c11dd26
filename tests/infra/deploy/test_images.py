"""The images the deployment runs are the root Dockerfile's targets, on the ports and health
endpoints that Dockerfile (and so docker compose) uses.

The stack's own tests use placeholder images; here one small stack takes the real
``ContainerImage.from_asset`` path (no Docker needed: assets are only staged at synth, built by
``cdk deploy``), so a renamed target or a build context that would ship the virtualenv fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from infra.deploy.options import DeployOptions
from infra.deploy.services import API_HEALTH, API_PORT, UI_HEALTH, UI_PORT
from infra.deploy.stack import REPO_ROOT, service_image

from .conftest import ALLOWED_CIDR

DOCKERFILE = REPO_ROOT / "Dockerfile"


def stage(target: str) -> str:
    """The Dockerfile stage ``target`` (from its FROM line to the next)."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    match = re.search(rf"^FROM \S+ AS {re.escape(target)}\n(.*?)(?=^FROM |\Z)", text, re.M | re.S)
    assert match, f"no stage {target} in {DOCKERFILE}"
    return match.group(1)


@pytest.mark.parametrize(
    ("target", "port", "health"), [("model-api", API_PORT, API_HEALTH), ("ui", UI_PORT, UI_HEALTH)]
)
def test_ports_and_health_checks_are_the_dockerfiles(target: str, port: int, health: str) -> None:
    body = stage(target)
    assert f"EXPOSE {port}\n" in body
    assert f"HEALTHCHECK_URL=http://127.0.0.1:{port}{health}" in body


def test_real_images_are_the_dockerfile_targets(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_ecs as ecs

    app = cdk.App(outdir=str(tmp_path), context={"allowedCidr": ALLOWED_CIDR})
    options = DeployOptions.from_context(app)
    assert options.placeholder_images is False
    stack = cdk.Stack(app, "Images")
    for target in ("model-api", "ui"):
        task = ecs.FargateTaskDefinition(stack, f"Task-{target}")
        task.add_container(target, image=service_image(options, target))
    app.synth()
    assets = json.loads((tmp_path / "Images.assets.json").read_text(encoding="utf-8"))
    images = {
        a["source"]["dockerBuildTarget"]: a["source"] for a in assets["dockerImages"].values()
    }
    assert set(images) == {"model-api", "ui"}
    for source in images.values():
        assert source["dockerFile"] == "Dockerfile"
        assert source["platform"] == "linux/amd64"
        context = tmp_path / source["directory"]
        assert (context / "Dockerfile").is_file() and (context / "uv.lock").is_file()
        assert (context / "services" / "model_api" / "src").is_dir()
        # .dockerignore applies: no virtualenv, tests, git data or CDK output in the context
        for absent in (".venv", "tests", ".git", "cdk.out", "var"):
            assert not (context / absent).exists(), absent
