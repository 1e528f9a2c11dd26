"""Which function the runner invokes: a handler string, the deployment zip, or the flagger itself.

- ``IRIS_ESM_FUNCTION_HANDLER`` (``package.module.function``): imported by its handler string, as
  Lambda does; it reads its own environment (``RETRAIN_TABLE``, ``CONFIDENCE_THRESHOLD``).
- ``IRIS_ESM_PACKAGED``: the deployment zip under Lambda's Python (:mod:`infra.esm.packaged`).
- Otherwise the flagger's own logic (:class:`flagger.handler.Flagger`, the code the deployed
  function runs), configured from the runner's settings, with the runner's on-failure file as its
  destination for unreadable records with no key.
"""

from __future__ import annotations

import importlib
from typing import Any

from flagger.config import FlaggerConfig
from flagger.handler import Flagger

from infra.esm.destination import FailureDestination
from infra.esm.invoker import Handler
from infra.esm.settings import EsmSettings


def load_handler(spec: str) -> Handler:
    """Import a Lambda-style handler string such as ``flagger.handler.lambda_handler``."""
    module_name, _, attribute = spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(handler):
        raise ValueError(f"{spec} is not a callable handler")
    return handler


def configured_handler(settings: EsmSettings) -> Handler | None:
    """The handler the settings name (packaged zip or handler string); None for the built-in."""
    if settings.esm_packaged:
        from infra.esm.packaged import PackagedHandler

        return PackagedHandler(settings)
    if settings.esm_function_handler:
        return load_handler(settings.esm_function_handler)
    return None


def built_in_flagger(
    settings: EsmSettings, dynamodb: Any, destination: FailureDestination
) -> Flagger:
    """The flagger with the runner's settings. The destination is the function's too: an
    unreadable record with no key goes there at once, as the deployed function sends it to the
    on-failure queue."""
    config = FlaggerConfig(retrain_table=settings.retrain_table, threshold=settings.flag_threshold)
    return Flagger(config, dynamodb, failure_sink=destination)
