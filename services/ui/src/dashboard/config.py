"""Settings of the dashboard: one typed place, environment-driven (prefix ``IRIS_``).

The dashboard only needs to know where model_api answers and where it should listen itself;
everything else (tables, AWS) is model_api's business, so it is deliberately absent here.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class UiSettings(BaseSettings):
    """Everything the dashboard reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="IRIS_", extra="ignore")

    api_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    ui_port: int = Field(default=8050, ge=1, le=65535)

    # HTTP to model_api: short connect timeout (a down service should fail fast and show an
    # alert), a longer read timeout for the calls that do real work (a batch test of 1,200 rows).
    api_connect_timeout: float = Field(default=3.0, gt=0)
    api_read_timeout: float = Field(default=60.0, gt=0)

    # How often the pages poll while something runs in the background (milliseconds).
    training_poll_ms: int = Field(default=1000, ge=200)
    monitoring_poll_ms: int = Field(default=2000, ge=200)

    # Production server (waitress) worker threads; Dash callbacks block on model_api calls.
    server_threads: int = Field(default=6, ge=1, le=64)


@lru_cache
def get_settings() -> UiSettings:
    """Settings read once from the environment (tests build their own ``UiSettings``)."""
    return UiSettings()
