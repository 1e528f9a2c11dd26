"""An AWS call that fails where no service translated it answers 503 in the error shape, not 500.

The failure is real: a boto3 DynamoDB client pointed at a loopback port nobody listens on.
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from infra.local.dynamodb_local import free_port
from model_api.core.errors import install_error_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )

    @app.get("/down")
    def down() -> dict[str, str]:
        client.describe_table(TableName="IrisExtendedRetrain")
        return {"status": "unreachable"}

    @app.get("/bug")
    def bug() -> dict[str, str]:
        raise RuntimeError("a real bug")

    return app


def test_an_unreachable_endpoint_is_a_503_with_retry_after() -> None:
    r = TestClient(_app(), raise_server_exceptions=False).get("/down")
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    body = r.json()["error"]
    assert body["code"] == "aws_unavailable"
    assert body["details"]["error"] == "EndpointConnectionError"


def test_other_errors_stay_500() -> None:
    r = TestClient(_app(), raise_server_exceptions=False).get("/bug")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
