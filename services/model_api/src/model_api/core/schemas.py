"""The bases of the API's models: a request body refuses unknown fields (a typo is a 422, not
ignored); a response model allows extra ones, so a field a handler adds passes through (and
should be declared), and nothing a handler returns is dropped. The response models are the
contract clients (the dashboard, scripts) are built and tested against, published in OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
