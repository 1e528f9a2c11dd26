"""Which function the runner invokes, and with what environment: as Lambda runs it.

- By default the handler string ``IRIS_LAMBDA_HANDLER`` (``flagger.handler.lambda_handler``, the
  one provisioning deploys) is imported and called in the runner's process, after the runner set
  the function's environment (:func:`function_environment`: ``RETRAIN_TABLE``,
  ``CONFIDENCE_THRESHOLD``, the endpoint, region and credentials) from its own settings, as
  provisioning configures the deployed function. The function reads only that environment.
- ``IRIS_ESM_PACKAGED``: the deployment zip under Lambda's Python (:mod:`infra.esm.packaged`),
  with the same environment in its own process.

The runner never reaches into the function: it learns which records failed from the response
(``batchItemFailures``), sends what keeps failing to its on-failure destination itself, and reads
the function's outcome counts from its log lines (:mod:`infra.esm.function_logs`).
"""

from __future__ import annotations

import importlib
import os

from infra.aws import make_clients
from infra.config import MappingSettings
from infra.esm.function_logs import FunctionLog
from infra.esm.invoker import Handler
from infra.esm.settings import EsmSettings
from infra.provision.function import function_variables


def load_handler(spec: str) -> Handler:
    """Import a Lambda-style handler string such as ``flagger.handler.lambda_handler``."""
    module_name, _, attribute = spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(handler):
        raise ValueError(f"{spec} is not a callable handler")
    return handler


def function_environment(settings: MappingSettings) -> dict[str, str]:
    """What the function sees on AWS: its variables, the region, the endpoint, credentials."""
    env = {
        **function_variables(settings),
        "AWS_DEFAULT_REGION": settings.aws_region,
        "AWS_REGION": settings.aws_region,
        "AWS_LAMBDA_FUNCTION_NAME": settings.function_name,
        "_HANDLER": settings.lambda_handler,
    }
    if settings.aws_endpoint_url:
        env["AWS_ENDPOINT_URL"] = settings.aws_endpoint_url
    # The chain's credentials, or the placeholder pair for a local endpoint (infra.aws).
    credentials = make_clients(settings).session.get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        env |= {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
        if frozen.token:
            env["AWS_SESSION_TOKEN"] = frozen.token
    return env


def configured_handler(settings: EsmSettings) -> tuple[Handler, FunctionLog | None]:
    """The function the settings name, and where its log lines are read (None when it runs in
    its own process: the packaged zip)."""
    if settings.esm_packaged:
        from infra.esm.packaged import PackagedHandler

        return PackagedHandler(settings), None
    os.environ.update(function_environment(settings))  # the function's process is this one
    handler = load_handler(settings.lambda_handler)
    return handler, FunctionLog(settings.lambda_handler.split(".", 1)[0])
