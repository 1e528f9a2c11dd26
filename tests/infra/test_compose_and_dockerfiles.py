"""The Docker Compose path, validated without a Docker engine (none exists on the build machines).

Structure of docker-compose.yml (pinned LocalStack, its services, the Docker socket, health
checks, ports on loopback, start order), the environment variable names against the settings
classes that read them, the provision command against the real CLI parser, and the Dockerfiles
(base image, uv, one package each; the UI's locked dependency set has no TensorFlow).
``make test-compose`` (tests/compose) then builds and runs all of it for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dashboard.config import UiSettings
from infra.config import InfraSettings
from infra.provision.cli import _parser as provision_parser
from model_api.config import ApiSettings
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
STANDARD_AWS = {
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}
# compose service -> (Dockerfile target, uv package, settings class, module it runs)
SERVICES: dict[str, tuple[str, str, type[BaseSettings], str | None]] = {
    "provision": ("infra", "iris-infra", InfraSettings, None),
    "model_api": ("model-api", "model-api", ApiSettings, "model_api"),
    "ui": ("ui", "iris-dashboard", UiSettings, "dashboard"),
}
DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_stages() -> dict[str, str]:
    """The one Dockerfile's stages: name -> its text (FROM line included)."""
    text = DOCKERFILE.read_text()
    parts = re.split(r"^(?=FROM )", text, flags=re.M)
    stages = {}
    for part in parts[1:]:
        name = re.match(r"FROM \S+(?: AS (\S+))?", part)
        assert name and name.group(1), f"unnamed stage: {part.splitlines()[0]}"
        stages[name.group(1)] = part
    return stages


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_names(settings_cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (prefix + name, or its alias)."""
    prefix = settings_cls.model_config.get("env_prefix", "")
    names = set()
    for name, info in settings_cls.model_fields.items():
        alias = info.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_localstack_is_pinned_and_configured(compose):
    ls = compose["services"]["localstack"]
    assert ls["image"] == "localstack/localstack:4.14.0"
    env = _env(ls)
    assert set(env["SERVICES"].split(",")) == {
        "dynamodb",
        "dynamodbstreams",
        "lambda",
        "sqs",
        "iam",
        "logs",
    }
    assert env["LOCALSTACK_AUTH_TOKEN"] == "${LOCALSTACK_AUTH_TOKEN:-}"  # passed through if set
    assert env["LAMBDA_DOCKER_NETWORK"] == compose["networks"]["default"]["name"]
    assert "${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock" in ls["volumes"]
    # healthy only once the init hooks completed, not merely when /health answers
    assert "/_localstack/init/ready" in _healthcheck_text(ls)
    assert '"completed": true' in _healthcheck_text(ls)


def _health_url(service: str, compose: dict[str, Any]) -> str:
    """The URL a service's health check asks: compose's own, else its Dockerfile target's."""
    svc = compose["services"][service]
    if "healthcheck" in svc:
        return _healthcheck_text(svc).replace("localhost", "")
    stage = dockerfile_stages()[SERVICES[service][0]]
    return re.search(r"HEALTHCHECK_URL=(\S+)", stage).group(1).replace("127.0.0.1", "")


@pytest.mark.parametrize(
    ("service", "container_port", "health_path"),
    [
        ("localstack", 4566, "/_localstack/init/ready"),
        ("model_api", 8000, "/health/ready"),
        ("ui", 8050, "/"),
    ],
)
def test_ports_on_loopback_and_healthchecks(compose, service, container_port, health_path):
    svc = compose["services"][service]
    assert len(svc["ports"]) == 1
    match = re.fullmatch(r"127\.0\.0\.1:\$\{(IRIS_\w+_PORT):-(\d+)\}:(\d+)", svc["ports"][0])
    assert match, f"{svc['ports'][0]} is not 127.0.0.1:${{IRIS_<X>_PORT:-default}}:port"
    variable, default, port = match.groups()
    assert int(port) == int(default) == container_port  # the contract's default ports
    assert variable in env_names(InfraSettings)  # the same names the launcher uses
    assert f":{container_port}{health_path}" in _health_url(service, compose)


def test_healthchecks_are_defined_once_in_the_dockerfile(compose):
    stages = dockerfile_stages()
    assert DOCKERFILE.read_text().count("HEALTHCHECK --") == 1
    assert "HEALTHCHECK_URL" in stages["runtime"]
    for service in ("model_api", "ui"):
        assert "healthcheck" not in compose["services"][service]
        assert stages[SERVICES[service][0]].startswith("FROM runtime AS")
    assert "HEALTHCHECK NONE" in stages["infra"]  # one-shot commands serve no HTTP


def test_start_order(compose):
    s = compose["services"]
    assert s["provision"]["depends_on"]["localstack"]["condition"] == "service_healthy"
    assert s["model_api"]["depends_on"]["provision"]["condition"] == (
        "service_completed_successfully"
    )
    assert s["ui"]["depends_on"]["model_api"]["condition"] == "service_healthy"
    assert s["provision"]["restart"] == "no"


def test_data_dir_is_a_volume(compose):
    api = compose["services"]["model_api"]
    data_dir = _env(api)["IRIS_DATA_DIR"]
    volume = next(v for v in api["volumes"] if v.endswith(f":{data_dir}"))
    assert volume.split(":")[0] in compose["volumes"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_env_names_are_settings_the_service_reads(compose, service):
    _, _, settings_cls, _ = SERVICES[service]
    env = _env(compose["services"][service])
    known = env_names(settings_cls) | STANDARD_AWS
    unknown = {name for name in env if name not in known}
    assert not unknown, f"{service} sets variables its settings do not read: {unknown}"


@pytest.mark.parametrize("service", ["provision", "model_api"])
def test_aws_services_point_at_localstack_with_placeholder_keys(compose, service):
    env = _env(compose["services"][service])
    assert env["AWS_ENDPOINT_URL"] == "http://localstack:4566"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("local", "local")


def test_ui_reaches_model_api_by_service_name_and_never_aws(compose):
    env = _env(compose["services"]["ui"])
    assert env["IRIS_API_URL"] == "http://model_api:8000"
    assert not any(name.startswith("AWS_") for name in env)


def test_provision_command_is_accepted_by_the_cli(compose):
    provision = compose["services"]["provision"]
    args = provision_parser().parse_args(provision["command"])
    assert args.command == "up" and args.with_lambda is None  # decided by IRIS_WITH_LAMBDA
    assert _env(provision)["IRIS_WITH_LAMBDA"] == "${IRIS_WITH_LAMBDA:-true}"
    assert args.wait > 0
    assert 'ENTRYPOINT ["iris-provision"]' in dockerfile_stages()["infra"]


def test_local_runner_profile_runs_the_stream_runner_from_the_infra_image(compose):
    runner = compose["services"]["stream-runner"]
    assert runner["profiles"] == ["local-runner"]
    assert runner["image"] == compose["services"]["provision"]["image"]
    assert runner["entrypoint"] == ["python", "-m", "infra.esm"]
    assert runner["depends_on"]["provision"]["condition"] == "service_completed_successfully"
    env = _env(runner)
    assert env["AWS_ENDPOINT_URL"] == "http://localstack:4566"
    assert set(env) <= env_names(InfraSettings) | STANDARD_AWS
    loader = type("ComposeLoader", (yaml.SafeLoader,), {})
    loader.add_constructor("!reset", lambda _loader, _node: None)  # compose's merge tag
    override = yaml.load((ROOT / "docker/compose.no-lambda.yml").read_text(), Loader=loader)
    assert "profiles" in override["services"]["stream-runner"]  # reset: always on here
    assert override["services"]["provision"]["environment"]["IRIS_WITH_LAMBDA"] == "false"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_dockerfile_builds_only_its_package(compose, service):
    target, package, settings_cls, module = SERVICES[service]
    build = compose["services"][service]["build"]
    assert (build["context"], build["target"]) == (".", target)
    assert "dockerfile" not in build  # the one Dockerfile at the root
    stages = dockerfile_stages()
    full = DOCKERFILE.read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in full
    assert (
        re.findall(r"^FROM (\S+) AS (?:uv|runtime)$", full, flags=re.M) == ["${PYTHON_IMAGE}"] * 2
    )
    builder = stages[f"build-{target}"]
    text = builder + stages[target] + stages["runtime"]
    assert f"COPY --from=build-{target} /app/.venv /app/.venv" in stages[target]
    syncs = re.findall(r"uv sync ([^\n]+)", builder)
    assert len(syncs) == 2
    for args in syncs:
        assert "--frozen" in args and "--no-dev" in args
        assert args.split("--package ")[1].split()[0] == package
    assert re.search(r"^USER (?!root)\w+", stages["runtime"], flags=re.M), "runs as root"
    assert "USER root" not in stages[target]
    if module:
        assert f'CMD ["python", "-m", "{module}"]' in text
    dockerfile_env = set(re.findall(r"\b(IRIS_[A-Z_]+)=", text))
    assert dockerfile_env <= env_names(settings_cls)


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", "**/node_modules", ".env", ".aws"} <= ignored


def _locked_packages(package: str) -> set[str]:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to read the lock (the README's commands install it)"
    out = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--package", package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        re.split(r"[=<>; @]", line.strip(), maxsplit=1)[0].lower()
        for line in out.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-e", "."))
    }


def test_ui_image_gets_no_tensorflow_but_model_api_does():
    ui = _locked_packages("iris-dashboard")
    api = _locked_packages("model-api")
    assert "dash" in ui
    assert not {p for p in ui if p.startswith(("tensorflow", "keras"))}
    assert "aioboto3" not in ui and "boto3" not in ui
    assert "tensorflow-cpu" in api
