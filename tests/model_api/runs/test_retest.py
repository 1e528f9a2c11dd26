"""Re-testing a run reproduces its rows exactly: same data set, same seed, same flipped labels
(the score log is off here: this is about the run, not the tables)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings

from tests.support import bundled, model_api_kit


def test_a_retest_flips_the_same_rows(tmp_path: Path) -> None:
    settings = ApiSettings(data_dir=tmp_path, scorelog_enabled=False)
    with TestClient(create_app(settings)) as api:
        ds = api.post("/api/datasets", data={"csv": bundled.sample_csv(20, seed=1)}).json()
        model = api.post(
            "/api/models", json={"dataset_id": ds["id"], "epochs": 3, "seed": 1}
        ).json()
        assert model_api_kit.wait_for_model(api, model["id"])["status"] == "ready"
        run = api.post(
            f"/api/models/{model['id']}/tests", json={"dataset_id": ds["id"], "flip_fraction": 0.3}
        ).json()
        assert run["seed"] is not None and len(run["flipped"]) == 18
        again = api.post(f"/api/runs/{run['run_id']}/retest", json={})
        assert again.status_code == 201, again.text
        body = again.json()
        assert body["run_id"] != run["run_id"] and body["retest_of"] == run["run_id"]
        assert body["flipped"] == run["flipped"] and body["actual"] == run["actual"]
        assert (body["seed"], body["flip_fraction"]) == (run["seed"], run["flip_fraction"])
        assert body["model_version"] == 1 and body["predicted"] == run["predicted"]
        assert api.get(f"/api/runs/{body['run_id']}").json()["retest_of"] == run["run_id"]
        missing = api.post("/api/runs/nope/retest", json={})
        assert missing.status_code == 404
        bad = api.post(f"/api/runs/{run['run_id']}/retest", json={"version": 4})
        assert bad.status_code == 404 and bad.json()["error"]["code"] == "version_not_found"
