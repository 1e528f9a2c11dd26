"""The Docker Compose path, validated without a Docker engine (none exists on the build machines).

Structure of docker-compose.yml (pinned LocalStack, its services, the Docker socket, health
checks, ports on loopback, start order), the environment variable names against the settings
classes that read them, the provision command against the real CLI parser, and the Dockerfiles
(base image, uv, one package each; the UI's locked dependency set has no TensorFlow).
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
from infra.provision_cli import _parser as provision_parser
from model_api.config import ApiSettings
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
STANDARD_AWS = {
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}
# compose service -> (Dockerfile, uv package, settings class, module it runs)
SERVICES: dict[str, tuple[str, str, type[BaseSettings], str | None]] = {
    "provision": ("services/infra/Dockerfile", "iris-infra", InfraSettings, None),
    "model_api": ("services/model_api/Dockerfile", "model-api", ApiSettings, "model_api"),
    "ui": ("services/ui/Dockerfile", "iris-dashboard", UiSettings, "dashboard"),
}


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
    assert "/var/run/docker.sock:/var/run/docker.sock" in ls["volumes"]
    assert "/_localstack/health" in _healthcheck_text(ls)


@pytest.mark.parametrize(
    ("service", "container_port", "health_path"),
    [
        ("localstack", 4566, "/_localstack/health"),
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
    assert f":{container_port}{health_path}" in _healthcheck_text(svc).replace("localhost", "")


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
    command = compose["services"]["provision"]["command"]
    args = provision_parser().parse_args(command)
    assert (args.command, args.with_lambda) == ("up", True)
    assert args.wait > 0
    dockerfile = (ROOT / "services/infra/Dockerfile").read_text()
    assert 'ENTRYPOINT ["iris-provision"]' in dockerfile


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_dockerfile_builds_only_its_package(compose, service):
    path, package, settings_cls, module = SERVICES[service]
    build = compose["services"][service]["build"]
    assert (build["context"], build["dockerfile"]) == (".", path)
    text = (ROOT / path).read_text()
    froms = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert froms and all(f == "${PYTHON_IMAGE}" for f in froms)
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    syncs = re.findall(r"uv sync ([^\n]+)", text)
    assert len(syncs) == 2
    for args in syncs:
        assert "--frozen" in args and "--no-dev" in args
        assert args.split("--package ")[1].split()[0] == package
    assert re.search(r"^USER (?!root)\w+", text, flags=re.M), "runs as root"
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
