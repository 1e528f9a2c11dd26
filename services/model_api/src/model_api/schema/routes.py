"""``/api/schema``: the input contract (features, formulas, classes, limits) for clients that
build forms, and ``/api/schema/derive`` to compute the 11 derived features the same way."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from model_api.core.errors import error_responses
from model_api.deps import ServicesDep
from model_api.schema.document import derive, schema
from model_api.schema.features import FEATURE_NAMES
from model_api.schema.schemas import Derived, Schema

router = APIRouter(prefix="/api/schema", tags=["schema"])


class DeriveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any]


@router.get("", response_model=Schema)
def get_schema(services: ServicesDep) -> dict[str, Any]:
    """Feature order, the 9 inputs and 11 formulas, class names, soil types, input limits."""
    return schema(services.settings)


@router.post("/derive", response_model=Derived, responses=error_responses(422))
def derive_features(body: DeriveRequest) -> dict[str, Any]:
    """All 20 features from the 9 independent inputs (the formulas of ``GET /api/schema``)."""
    features = derive(body.inputs)
    return {"features": features, "values": [features[n] for n in FEATURE_NAMES]}
