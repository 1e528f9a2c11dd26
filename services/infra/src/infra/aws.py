"""The one way infra reaches an AWS API: clients, local credentials, error codes and waits.

Provisioning, DynamoDB Local, the stream runner and the launcher all talk to the same kinds of
endpoint (AWS, LocalStack, DynamoDB Local), so they share one factory: the standard credential
chain, and the placeholder ``local`` pair only for a custom endpoint when the chain has nothing
(such endpoints accept any keys; real AWS never gets them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import MappingSettings

T = TypeVar("T")

# Local endpoints accept any credentials; these are placeholders, never real keys.
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
# Provisioning waits on slow control-plane calls; the default for every client.
DEFAULT_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
)
# Errors that waiting will not fix: report them at once.
AUTH_ERRORS = {"UnrecognizedClientException", "InvalidSignatureException", "AccessDenied"}


def local_credential_env() -> dict[str, str]:
    """The placeholder credentials as environment variables (children, ``iris-stack aws-env``)."""
    return {
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
    }


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ``ClientError`` (``""`` for anything else)."""
    if not isinstance(exc, ClientError):
        return ""
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass
class AwsClients:
    """boto3 clients for one endpoint (None = real AWS), created on first use."""

    session: boto3.Session
    endpoint_url: str | None
    config: Config = field(default=DEFAULT_CONFIG)
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self.session.client(
                service, endpoint_url=self.endpoint_url, config=self.config
            )
        return self._cache[service]

    @cached_property
    def label(self) -> str:
        return self.endpoint_url or f"AWS ({self.session.region_name})"


def clients_for(
    region: str,
    endpoint_url: str | None,
    credentials: dict[str, str] | None = None,
    config: Config = DEFAULT_CONFIG,
) -> AwsClients:
    """Clients for ``endpoint_url`` with ``credentials``, else the standard credential chain.

    A custom endpoint (DynamoDB Local, LocalStack) with no credentials configured anywhere gets
    :data:`LOCAL_CREDENTIALS`, since such endpoints accept any; real AWS never does.
    """
    session = boto3.Session(region_name=region, **(credentials or {}))
    if credentials is None and endpoint_url and session.get_credentials() is None:
        session = boto3.Session(region_name=region, **LOCAL_CREDENTIALS)
    return AwsClients(session=session, endpoint_url=endpoint_url, config=config)


def make_clients(
    settings: MappingSettings,
    credentials: dict[str, str] | None = None,
    config: Config = DEFAULT_CONFIG,
) -> AwsClients:
    """Clients for the configured endpoint (``AWS_ENDPOINT_URL``, unset = real AWS)."""
    return clients_for(settings.aws_region, settings.aws_endpoint_url, credentials, config)


def local_client(endpoint_url: str, region: str = "us-east-1", service: str = "dynamodb") -> Any:
    """One client for a local endpoint with the placeholder credentials, failing fast."""
    config = Config(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=10)
    return clients_for(region, endpoint_url, LOCAL_CREDENTIALS, config)(service)


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    timeout: float,
    what: str,
    delay: float = 0.5,
    error: type[Exception] = TimeoutError,
) -> T:
    """Call ``fetch`` until ``done(result)``; bounded, raising ``error`` with a clear message."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() >= deadline:
            raise error(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)


def wait_for_endpoint(
    clients: AwsClients, timeout: float, error: type[Exception] = TimeoutError
) -> None:
    """Block until the DynamoDB API answers (useful right after a container starts)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            clients("dynamodb").list_tables(Limit=1)
            return
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) in AUTH_ERRORS:
                raise
            if time.monotonic() >= deadline:
                raise error(
                    f"the DynamoDB API at {clients.label} did not answer within {timeout:.0f}s: "
                    f"{exc}"
                ) from exc
            time.sleep(1.0)


def endpoint_supports_lambda(clients: AwsClients) -> bool:
    """True for AWS and LocalStack/moto; False for DynamoDB Local, which has only DynamoDB."""
    if clients.endpoint_url is None:
        return True
    probe = clients.session.client(
        "lambda",
        endpoint_url=clients.endpoint_url,
        config=Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5),
    )
    try:
        probe.list_functions(MaxItems=1)
        return True
    except (BotoCoreError, ClientError):
        return False
