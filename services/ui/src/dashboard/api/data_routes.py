"""The dashboard's calls to model_api's input contract and data set routes."""

from __future__ import annotations

from dashboard.api.models import (
    Dataset,
    Derived,
    Json,
    RowsPage,
    Schema,
)
from dashboard.api.transport import PAGE, Transport


class DataRoutes(Transport):
    """``/api/schema`` and ``/api/datasets``."""

    # --- the input contract ----------------------------------------------------------------

    def schema(self) -> Schema:
        """``GET /api/schema`` (features, formulas, classes, limits, states): fetched once and
        kept; while the API is down it raises ``ApiError`` and the next call asks again."""
        if self._schema is None:
            self._schema = self._request("GET", "/api/schema")
        return self._schema

    def derive(self, inputs: Json) -> Derived:
        """``POST /api/schema/derive``: the 20 features from the 9 independent inputs."""
        return self._request("POST", "/api/schema/derive", json={"inputs": inputs})

    # --- datasets --------------------------------------------------------------------------

    def list_datasets(self) -> list[Dataset]:
        return self._request("GET", "/api/datasets")

    def get_dataset(self, dataset_id: int) -> Dataset:
        return self._request("GET", f"/api/datasets/{int(dataset_id)}")

    def dataset_rows(
        self, dataset_id: int, offset: int = 0, limit: int = 100, sort: list[str] | None = None
    ) -> RowsPage:
        """One page of rows; ``sort`` (``"column:asc|desc"``) orders the whole set first."""
        params: Json = {"offset": offset, "limit": limit}
        if sort:
            params["sort"] = sort
        return self._request("GET", f"/api/datasets/{int(dataset_id)}/rows", params=params)

    def dataset_histogram(self, dataset_id: int, column: str, bins: int | None = None) -> Json:
        """Per-class bin counts of one column (computed by model_api, not from every row)."""
        params: Json = {"column": column} | ({"bins": bins} if bins else {})
        return self._request("GET", f"/api/datasets/{int(dataset_id)}/histogram", params=params)

    def dataset_columns(self, dataset_id: int, names: list[str]) -> Json:
        """Only the named columns (and every row's label), e.g. for a scatter."""
        params = {"name": list(names)}
        return self._request("GET", f"/api/datasets/{int(dataset_id)}/columns", params=params)

    def all_rows(self, dataset_id: int) -> list[Json]:
        """Every row of a data set, following the API's paging."""
        rows: list[Json] = []
        offset = 0
        while True:
            page = self.dataset_rows(dataset_id, offset=offset, limit=PAGE)
            batch = page.get("rows", [])
            rows.extend(batch)
            offset += len(batch)
            if not batch or offset >= int(page.get("total", 0)):
                return rows

    def upload_dataset(self, filename: str, content: bytes, name: str | None = None) -> Dataset:
        """``POST /api/datasets`` with the CSV as a multipart ``file`` part."""
        data = {"name": name} if name else None
        files = {"file": (filename or "upload.csv", content, "text/csv")}
        return self._request("POST", "/api/datasets", files=files, data=data)

    def delete_dataset(self, dataset_id: int) -> None:
        self._request("DELETE", f"/api/datasets/{int(dataset_id)}")
