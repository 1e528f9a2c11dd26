"""The API's published contract: every route's response model and error statuses in OpenAPI,
the ``Allow`` header, and ``GET /api/schema`` (features, formulas, classes, limits)."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings
from model_api.core.security import GUARD_RESPONSES
from model_api.datasets.store import bundled_csv
from model_api.schema.features import FEATURE_NAMES

ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = ApiSettings(
        data_dir=tmp_path_factory.mktemp("contract"),
        scorelog_enabled=False,
        max_epochs=77,
        max_upload_bytes=12345,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def operations(client: TestClient) -> Iterator[tuple[str, str, dict]]:
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def test_every_route_declares_its_answer_and_its_errors(client: TestClient) -> None:
    seen = 0
    for method, path, op in operations(client):
        seen += 1
        responses = op["responses"]
        success = [s for s in responses if s.startswith("2")]
        assert len(success) == 1, (method, path, responses)
        if success[0] != "204":
            content = responses[success[0]]["content"]
            schema = next(iter(content.values()))["schema"]
            assert schema and schema != {}, (method, path)
            if "application/json" in content:
                assert schema.get("$ref") or schema.get("type") in ("array", "object"), path
        errors = [s for s in responses if s[0] in "45"]
        for status in errors:
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            if path == "/health/ready" and status == "503":
                assert ref.endswith("/Ready")
            else:
                assert ref == ERROR_REF, (method, path, status)
        has_params = bool(op.get("parameters") or op.get("requestBody"))
        assert not has_params or "422" in errors, (method, path)
    assert seen >= 27
    ops = {(m, p): op for m, p, op in operations(client)}
    assert "404" in ops[("GET", "/api/runs/{run_id}/records")]["responses"]
    assert {"404", "409"} <= set(ops[("DELETE", "/api/datasets/{dataset_id}")]["responses"])
    assert "413" in ops[("POST", "/api/datasets")]["responses"]
    assert "503" in ops[("POST", "/api/models/{model_id}/tests")]["responses"]


def test_course_form_fields_are_in_the_schema(client: TestClient) -> None:
    ops = {(m, p): op for m, p, op in operations(client)}
    for (method, path), field in {
        ("POST", "/iris/datasets"): "train",
        ("POST", "/iris/model"): "dataset",
    }.items():
        content = ops[(method, path)]["requestBody"]["content"]
        for kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
            assert field in content[kind]["schema"]["properties"]
            assert content[kind]["schema"]["required"] == [field]
    assert "application/json" in ops[("POST", "/iris/model")]["requestBody"]["content"]
    score = ops[("GET", "/iris/model/{model_id}/score")]["responses"]["200"]["content"]
    assert score["text/plain"]["example"] == "Score done, class=0"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/datasets", "GET, OPTIONS, POST"),
        ("PATCH", "/api/models/0", "DELETE, GET, OPTIONS"),
        ("POST", "/iris/model/0", "GET, OPTIONS, PUT"),
        ("DELETE", "/health/live", "GET, OPTIONS"),
        ("GET", "/api/models/0/tests", "OPTIONS, POST"),
    ],
)
def test_405_and_options_name_every_allowed_method(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert r.json()["error"]["code"] == "method_not_allowed"
    options = client.options(path)
    assert options.status_code == 204 and options.headers["allow"] == allow
    assert options.content == b""
    assert client.options("/no/such/path").status_code == 404


def test_schema_publishes_features_formulas_classes_and_limits(client: TestClient) -> None:
    r = client.get("/api/schema")
    assert r.status_code == 200
    schema = r.json()
    assert schema["feature_order"] == list(FEATURE_NAMES)
    independent = [f["name"] for f in schema["independent"]]
    derived = [f["name"] for f in schema["derived"]]
    assert len(independent) == 9 and len(derived) == 11
    assert sorted(independent + derived) == sorted(FEATURE_NAMES)
    assert all(f["formula"] for f in schema["derived"])
    df = pd.read_csv(io.BytesIO(bundled_csv()))
    assert schema["class_names"] == sorted(df["species"].unique())
    assert schema["soil_types"] == {"0": "sandy", "1": "clay", "2": "loamy"}
    assert sorted(int(k) for k in schema["soil_types"]) == sorted(df["soil_type"].unique())
    assert set(schema["logging_final_states"]) <= set(schema["logging_states"])
    limits = schema["limits"]
    assert limits["epochs"] == {"min": 1, "max": 77}  # from the settings
    assert limits["upload_bytes"] == {"max": 12345}
    assert limits["validation_split"]["max"] == 0.5 and limits["learning_rate"]["max"] == 1


def test_the_limits_are_the_ones_the_api_enforces(client: TestClient) -> None:
    limits = client.get("/api/schema").json()["limits"]
    just_over = {
        "epochs": limits["epochs"]["max"] + 1,
        "learning_rate": limits["learning_rate"]["max"] * 1.01,
        "validation_split": limits["validation_split"]["max"] + 0.01,
        "batch_size": limits["batch_size"]["max"] + 1,
        "hidden_layers": [limits["hidden_layers"]["max_units"] + 1],
    }
    for field, value in just_over.items():
        r = client.post("/api/models", json={"dataset_id": 0, field: value})
        assert r.status_code == 422, (field, r.text)
    r = client.post("/api/models", json={"dataset_id": 0, "learning_rate": 0})
    assert r.status_code == 422  # min is exclusive
    assert client.get("/api/models").json() == []  # nothing half-created
    big = "species," + ",".join(FEATURE_NAMES) + "\n" + "x," * 20000
    assert client.post("/api/datasets", data={"csv": big}).status_code == 413


def test_derive_computes_the_published_formulas_for_every_bundled_row(
    client: TestClient,
) -> None:
    schema = client.get("/api/schema").json()
    independent = [f["name"] for f in schema["independent"]]
    df = pd.read_csv(io.BytesIO(bundled_csv()))
    for _, row in df.sample(40, random_state=1).iterrows():
        r = client.post("/api/schema/derive", json={"inputs": {n: row[n] for n in independent}})
        assert r.status_code == 200, r.text
        body = r.json()
        assert list(body["features"]) == list(FEATURE_NAMES)
        assert body["values"] == [body["features"][n] for n in FEATURE_NAMES]
        for name in FEATURE_NAMES:
            assert math.isclose(body["features"][name], float(row[name]), rel_tol=1e-9), name
    bad = client.post("/api/schema/derive", json={"inputs": {"sepal_length": 0, "x": 1}})
    assert bad.status_code == 422
    details = bad.json()["error"]["details"]
    assert details["unknown"] == ["x"] and "positive" in details["inputs"]["sepal_length"]
    assert details["inputs"]["elevation"] == "missing"


def test_version_and_job_routes_declare_their_own_model_and_statuses(client: TestClient) -> None:
    ops = {(m, p): op for m, p, op in operations(client)}
    expected = {
        ("POST", "/api/models/{model_id}/versions"): (
            "202",
            "Job",
            {"404", "409", "422", "429", "503", "507"},
        ),
        ("GET", "/api/models/{model_id}/versions"): ("200", "VersionList", {"404", "422"}),
        ("GET", "/api/models/{model_id}/versions/{version}"): ("200", "Version", {"404", "422"}),
        ("POST", "/api/models/{model_id}/compare"): (
            "200",
            "Comparison",
            {"404", "409", "422", "507"},
        ),
        ("POST", "/api/models/{model_id}/promote"): (
            "200",
            "Promotion",
            {"404", "409", "422", "507"},
        ),
        ("GET", "/api/jobs/{job_id}"): ("200", "Job", {"404", "422"}),
        ("GET", "/api/jobs"): ("200", "Job", {"422"}),
        ("POST", "/api/runs/{run_id}/retest"): (
            "201",
            "TestRun",
            {"404", "409", "422", "429", "503", "507"},
        ),
    }
    for (method, path), (success, model, errors) in expected.items():
        responses = ops[(method, path)]["responses"]
        schema = responses[success]["content"]["application/json"]["schema"]
        ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
        assert ref == f"#/components/schemas/{model}", (method, path, schema)
        declared = {s for s in responses if s[0] in "45"}
        assert set(GUARD_RESPONSES) <= declared, (method, path)  # model_api/core/security.py's
        assert declared - set(GUARD_RESPONSES) == errors, (method, path)
    assert (
        ops[("GET", "/api/jobs")]["responses"]["200"]["content"]["application/json"]["schema"][
            "type"
        ]
        == "array"
    )
    components = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"job_id", "status", "events"} <= set(components["Job"]["properties"])
    assert "changed" in components["Promotion"]["properties"]
