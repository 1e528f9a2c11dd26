"""The dashboard's types of model_api's answers (``dashboard.api.models``) are a copy of
model_api's response schemas: checked here against the real OpenAPI document, so a field renamed
or dropped in model_api fails this test instead of a page at run time."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, NotRequired, get_origin, get_type_hints, is_typeddict

import pytest
from dashboard.api import models
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings

# Dashboard type -> model_api's schema, where the names differ. ``ItemPage`` is a generic page
# (candidates, records) whose item type the dashboard does not spell out: each field is in one
# of the two schemas that page that way, its required ones in both.
RENAMED = {"Readiness": "Ready", "Run": "RunSummary"}
PAGES = {"ItemPage": ("RecordPage", "RetrainPage")}


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("api_types")
    with TestClient(create_app(ApiSettings(data_dir=data_dir, scorelog_enabled=False))) as c:
        return c.get("/openapi.json").json()["components"]["schemas"]


def _types() -> list[tuple[str, Any]]:
    return [(n, t) for n, t in inspect.getmembers(models) if is_typeddict(t)]


@pytest.mark.parametrize(("name", "typed"), _types(), ids=[n for n, _ in _types()])
def test_every_field_the_dashboard_reads_is_in_model_apis_schema(
    name: str, typed: Any, schemas: dict[str, Any]
) -> None:
    names = PAGES.get(name, (RENAMED.get(name, name),))
    assert all(n in schemas for n in names), f"{name}: model_api has no schema {names}"
    props = [set(schemas[n].get("properties", {})) for n in names]
    # (the module's annotations are postponed strings, so ``__required_keys__`` misses
    # ``NotRequired``: read it from the resolved hints)
    hints = get_type_hints(typed, include_extras=True)
    fields = set(hints)
    required = {f for f, h in hints.items() if get_origin(h) is not NotRequired}
    missing = fields - set.union(*props)
    assert not missing, f"{name} reads {sorted(missing)}, not in model_api's {names}"
    for n, p in zip(names, props, strict=True):
        assert required <= p, f"{name} requires fields {n} lacks"
