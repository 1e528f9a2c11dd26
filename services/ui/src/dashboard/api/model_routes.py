"""The dashboard's calls to model_api's model routes: training, scoring and the retrain loop's
versions, jobs, comparison and promotion."""

from __future__ import annotations

from dashboard.api.models import (
    Comparison,
    Job,
    Json,
    Model,
    Promotion,
    Score,
    VersionList,
)
from dashboard.api.transport import Transport, segment


class ModelRoutes(Transport):
    """``/api/models`` and ``/api/jobs``."""

    # --- models ----------------------------------------------------------------------------

    def list_models(self) -> list[Model]:
        return self._request("GET", "/api/models")

    def get_model(self, model_id: int) -> Model:
        return self._request("GET", f"/api/models/{int(model_id)}")

    def create_model(self, spec: Json) -> Model:
        return self._request("POST", "/api/models", json=spec)

    def retrain_model(self, model_id: int, spec: Json) -> Model:
        return self._request("POST", f"/api/models/{int(model_id)}/train", json=spec)

    def delete_model(self, model_id: int) -> None:
        self._request("DELETE", f"/api/models/{int(model_id)}")

    def score(
        self,
        model_id: int,
        *,
        features: dict[str, float] | None = None,
        values: list[float] | None = None,
    ) -> Score:
        """Score one row, given either the 20 named features or 20 values in CSV order."""
        if (features is None) == (values is None):
            raise ValueError("give exactly one of features or values")
        body: Json = {"features": features} if features is not None else {"values": values}
        return self._request("POST", f"/api/models/{int(model_id)}/score", json=body)

    def start_version(self, model_id: int, body: Json) -> Job:
        return self._request("POST", f"/api/models/{int(model_id)}/versions", json=body)

    def versions(self, model_id: int) -> VersionList:
        return self._request("GET", f"/api/models/{int(model_id)}/versions")

    def job(self, job_id: str) -> Job:
        return self._request("GET", f"/api/jobs/{segment(job_id)}")

    def jobs(self, model_id: int) -> list[Job]:
        return self._request("GET", "/api/jobs", params={"model_id": int(model_id)})

    def compare(self, model_id: int, body: Json) -> Comparison:
        return self._request("POST", f"/api/models/{int(model_id)}/compare", json=body)

    def promote(self, model_id: int, body: Json) -> Promotion:
        return self._request("POST", f"/api/models/{int(model_id)}/promote", json=body)
