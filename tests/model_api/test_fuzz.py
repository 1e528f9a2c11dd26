"""The whole API fuzzed from its own OpenAPI document (schemathesis, bounded examples).

Every operation gets generated requests (valid and invalid); each response must be no 5xx and
match its documented status codes, content type and response schema. The real service: ``python
-m model_api`` over HTTP, with its score log writing to the test session's DynamoDB endpoint.
Training is capped at 3 epochs so generated ``POST /api/models`` calls stay cheap on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from infra.aws import LOCAL_CREDENTIALS, make_clients
from infra.config import InfraSettings
from infra.local.dynamodb_local import free_port
from infra.provision import provision_down, provision_up
from schemathesis import checks

from tests.support.waits import wait_http

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_url(aws_endpoint, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    suffix = uuid.uuid4().hex[:8]
    infra = InfraSettings(
        aws_endpoint_url=aws_endpoint.url,
        aws_region=aws_endpoint.region,
        score_table=f"IrisExtended-f{suffix}",
        retrain_table=f"IrisExtendedRetrain-f{suffix}",
        registry_table=f"IrisRegistry-f{suffix}",
        provision_wait_s=120,
    )
    clients = make_clients(infra, LOCAL_CREDENTIALS if aws_endpoint.is_local_engine else None)
    provision_up(infra, with_lambda=False, clients=clients)
    port = free_port()
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
        | {
            "IRIS_API_PORT": str(port),
            "IRIS_DATA_DIR": str(tmp_path_factory.mktemp("fuzz")),
            "IRIS_SCORE_TABLE": infra.score_table,
            "IRIS_RETRAIN_TABLE": infra.retrain_table,
            "IRIS_REGISTRY_TABLE": infra.registry_table,
            "IRIS_MAX_EPOCHS": "3",
        }
        | aws_endpoint.child_env()
    )
    log = open(tmp_path_factory.mktemp("fuzzlog") / "model_api.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "model_api"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/health/ready", proc, 120, Path(log.name))
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        provision_down(infra, with_lambda=False, clients=clients)


def test_api_conforms_to_its_openapi(api_url: str) -> None:
    """Each operation in turn (bounded examples); every distinct failure is reported at the end."""
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case) -> None:
            case.call_and_validate(checks=CHECKS, timeout=60)

        try:
            fuzz()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a FailureGroup: collect every operation's failures
            failures[operation.label] = str(exc)
    assert operations >= 20, operations
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
