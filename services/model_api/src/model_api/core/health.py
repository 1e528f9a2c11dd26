"""Liveness (the process answers) and readiness (storage writable, object store, registry and
tables reachable)."""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from model_api.core.schemas import Open
from model_api.deps import ServicesDep


class Live(Open):
    status: str


class Ready(Open):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=Live)
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready}})
async def ready(services: ServicesDep) -> JSONResponse:
    checks: dict[str, Any] = {
        "storage": _storage_check(services),
        "object_store": await asyncio.to_thread(services.objects.check),
        "registry_table": await asyncio.to_thread(_registry_check, services),
    }
    if services.settings.scorelog_enabled:
        for key, table in (
            ("score_table", services.settings.score_table),
            ("retrain_table", services.settings.retrain_table),
        ):
            checks[key] = await _table_check(services, table)
    else:
        checks["score_log"] = "disabled"
    ok = all(v in ("ok", "disabled") for v in checks.values())
    body = {"status": "ready" if ok else "not_ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


def _storage_check(services: ServicesDep) -> str:
    try:
        with tempfile.NamedTemporaryFile(dir=services.settings.store_dir):
            return "ok"
    except OSError as exc:
        return f"error: {exc}"


def _registry_check(services: ServicesDep) -> str:
    """The registry table (every replica's shared state) answers and is active."""
    try:
        status = services.registry.describe().get("TableStatus", "ACTIVE")
    except Exception as exc:  # a missing or unreachable table: say which
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        return f"error: {code} ({services.registry.table})"
    return "ok" if status in ("ACTIVE", "UPDATING") else f"error: table {status}"


async def _table_check(services: ServicesDep, table: str) -> str:
    client = services.dynamodb
    if client is None:
        return "error: no DynamoDB client"
    try:
        desc = await asyncio.wait_for(client.describe_table(TableName=table), timeout=3)
    except Exception as exc:  # any failure makes the service not ready; say which
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        return f"error: {code}"
    status = desc["Table"].get("TableStatus", "ACTIVE")
    return "ok" if status in ("ACTIVE", "UPDATING") else f"error: table {status}"
