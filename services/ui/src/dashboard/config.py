"""Settings of the dashboard: one typed place, environment-driven (prefix ``IRIS_``).

The dashboard only needs to know where model_api answers and where it should listen itself;
everything else (tables, AWS) is model_api's business, so it is deliberately absent here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from iris_common.webguard import GuardSettingsMixin, split_list
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class UiSettings(GuardSettingsMixin, BaseSettings):
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

    # --- guards (dashboard/security.py; README "Configuration") ---
    # model_api's bearer tokens: the first is sent on every call; set = the dashboard asks for
    # a login too (users: ui_users, else "iris" with the first token as password).
    api_token: str | None = Field(default=None, repr=False)
    ui_users: str | None = Field(default=None, repr=False)  # "user:password,user2:password2"
    ui_auth: Literal["basic", "proxy"] = "basic"  # proxy: a reverse proxy does the login
    allowed_hosts: str = "127.0.0.1,localhost,::1"
    cors_origins: str = ""  # other origins whose pages may call the dashboard (rarely needed)

    def ui_user_table(self) -> dict[str, str]:
        """Basic-auth users, or {} when no login is asked for."""
        if self.ui_auth == "proxy" or not (self.api_tokens or self.ui_users):
            return {}
        if self.ui_users:
            pairs = (item.split(":", 1) for item in split_list(self.ui_users) if ":" in item)
            return {user: password for user, password in pairs}
        return {"iris": self.api_tokens[0]}


@lru_cache
def get_settings() -> UiSettings:
    """Settings read once from the environment (tests build their own ``UiSettings``)."""
    return UiSettings()
