"""The one way the dashboard talks to model_api: a small typed httpx client.

One method per route; answers are typed (:mod:`dashboard.api.models`); every failure becomes one
:class:`~dashboard.api.errors.ApiError`, so a page needs a single ``except ApiError``. The routes
live by domain (``data_routes``, ``model_routes``, ``run_routes``, on ``transport``); callers see
the one :class:`ApiClient`.
"""

from __future__ import annotations

from functools import lru_cache

from dashboard.api.data_routes import DataRoutes
from dashboard.api.model_routes import ModelRoutes
from dashboard.api.run_routes import RunRoutes
from dashboard.config import get_settings


class ApiClient(DataRoutes, ModelRoutes, RunRoutes):
    """Typed calls to the model_api routes in docs/contract.md (one method per route)."""


@lru_cache
def get_client() -> ApiClient:
    """The process's shared client (a connection pool; it holds no per-user state)."""
    return ApiClient.from_settings(get_settings())
