"""Access to the app's ``Services`` from a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from model_api.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
