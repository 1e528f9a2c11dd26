"""Both upload routes read their form with one helper (``model_api.core.forms``): a CSV over
Starlette's 1 MiB text-part default is accepted as a text field or a file part up to
``IRIS_MAX_UPLOAD_BYTES``, and above it every encoding answers 413 and creates nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings
from model_api.core.security import GUARD_RESPONSES

from tests.support import bundled

LIMIT = 3 * 1024 * 1024
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = ApiSettings(
        data_dir=tmp_path_factory.mktemp("uploads"), scorelog_enabled=False, max_upload_bytes=LIMIT
    )
    with TestClient(create_app(settings)) as c:
        yield c


def big_csv(min_bytes: int) -> str:
    """The bundled rows repeated until the CSV is at least ``min_bytes`` long."""
    df = bundled.bundled_frame()
    copies = min_bytes // len(df.to_csv(index=False)) + 1
    return pd.concat([df] * copies).to_csv(index=False)


@pytest.fixture(scope="module")
def mib_and_a_half() -> str:
    text = big_csv(3 * MIB // 2)
    assert MIB < len(text) < LIMIT
    return text


def encodings(field: str, text: str) -> dict[str, dict[str, Any]]:
    """The three ways a client sends the CSV: urlencoded, multipart text part, file part."""
    return {
        "urlencoded": {"data": {field: text}},
        "text part": {"files": {field: (None, text)}},
        "file part": {"files": {field: ("big.csv", text.encode(), "text/csv")}},
    }


def assert_too_large(r: Any) -> None:
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == "too_large"


@pytest.mark.parametrize("how", ["urlencoded", "text part"])
def test_api_datasets_takes_a_text_field_over_one_mib(client, mib_and_a_half, how) -> None:
    r = client.post("/api/datasets", **encodings("csv", mib_and_a_half)[how])
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == len(mib_and_a_half.splitlines()) - 1


def test_api_datasets_takes_a_file_part_over_one_mib(client, mib_and_a_half) -> None:
    r = client.post("/api/datasets", **encodings("file", mib_and_a_half)["file part"])
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "big.csv"
    assert r.json()["rows"] == len(mib_and_a_half.splitlines()) - 1


@pytest.mark.parametrize("how", ["urlencoded", "text part"])
def test_iris_datasets_takes_a_text_field_over_one_mib(client, mib_and_a_half, how) -> None:
    r = client.post("/iris/datasets", **encodings("train", mib_and_a_half)[how])
    assert r.status_code == 200, r.text
    rows = client.get(f"/api/datasets/{int(r.text)}").json()["rows"]
    assert rows == len(mib_and_a_half.splitlines()) - 1


@pytest.mark.parametrize(
    ("route", "field"), [("/api/datasets", "csv"), ("/iris/datasets", "train")]
)
def test_over_the_limit_is_413_in_every_encoding_and_creates_nothing(client, route, field):
    too_big = big_csv(LIMIT + 1)
    before = client.get("/api/datasets").json()
    sends = encodings(field, too_big)
    if field == "csv":  # /api/datasets takes its file part as 'file'
        sends["file part"] = encodings("file", too_big)["file part"]
    for how, send in sends.items():
        r = client.post(route, **send)
        assert r.status_code == 413, (how, r.text)
        assert_too_large(r)
    assert client.get("/api/datasets").json() == before


def test_a_name_longer_than_200_characters_is_refused(client) -> None:
    before = client.get("/api/datasets").json()
    r = client.post("/api/datasets", data={"csv": bundled.sample_csv(3), "name": "n" * 201})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
    assert client.get("/api/datasets").json() == before


def test_the_upload_form_fields_and_errors_are_in_the_openapi(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/datasets", "/iris/datasets"):
        errors = {s for s in paths[path]["post"]["responses"] if s[0] in "45"}
        # the route's own statuses, plus the guards' that every route declares
        # (model_api.core.security)
        assert errors == {"400", "413", "422", "507"} | set(GUARD_RESPONSES), path
    body = paths["/api/datasets"]["post"]["requestBody"]
    fields = body["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"file", "csv", "name"} <= set(fields)
    assert fields["file"]["format"] == "binary"
