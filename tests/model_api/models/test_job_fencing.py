"""A retrain-flow job's writes are fenced by its lease generation: a holder paused past its
lease (its heartbeat never ran) cannot overwrite what its successor wrote, against a real
DynamoDB API (the registry) and real threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from model_api.core.lease import Leases
from model_api.core.objects import ObjectStore
from model_api.models.job_runner import JobRunner
from model_api.models.jobs import Interrupted, JobStore, Progress, Superseded

from tests.support.waits import wait_for

pytestmark = pytest.mark.integration


def test_a_write_under_an_older_generation_is_refused_and_changes_nothing(
    fresh_registry_table: Any, tmp_path: Path
) -> None:
    jobs = JobStore(fresh_registry_table, ObjectStore((tmp_path / "o").as_uri()))
    job_id = jobs.create("retrain", 0, {"request": {}})["job_id"]
    jobs.update(job_id, fence=1, progress={"epoch": 1})
    jobs.update(job_id, fence=2, progress={"epoch": 2})
    with pytest.raises(Superseded):
        jobs.update(job_id, fence=1, status="failed", progress={"epoch": 9})
    job = jobs.get(job_id)
    assert job["progress"] == {"epoch": 2} and job["status"] == "queued"


def test_a_paused_holder_stops_without_touching_its_successors_job(
    fresh_registry_table: Any, tmp_path: Path
) -> None:
    jobs = JobStore(fresh_registry_table, ObjectStore((tmp_path / "o").as_uri()))
    job_id = jobs.create("retrain", 0, {"request": {}})["job_id"]
    paused, resume, a_saw = threading.Event(), threading.Event(), []

    def slow(job: dict[str, Any], progress: Progress) -> dict[str, Any]:
        progress(stage="training", epoch=1)
        paused.set()
        resume.wait(60)  # the lease expires meanwhile, unrenewed (as in a long GC pause)
        a_saw.append(progress(stage="training", epoch=2))
        if not a_saw[-1]:
            raise Interrupted
        return {"version": "from a"}

    def quick(job: dict[str, Any], progress: Progress) -> dict[str, Any]:
        progress(stage="training", epoch=5)
        return {"version": "from b"}

    with ThreadPoolExecutor(2) as pool:
        # a never heartbeats (interval 1 h) and its lease lasts 1 s: b may take the job over
        a = JobRunner(
            jobs, pool.submit, {"retrain": slow}, Leases(fresh_registry_table, "a", 1), 3600
        )
        b = JobRunner(
            jobs, pool.submit, {"retrain": quick}, Leases(fresh_registry_table, "b", 60), 3600
        )
        a.enqueue(job_id)
        assert paused.wait(60)
        time.sleep(1.2)
        b.adopt()  # the orphan: a's lease has expired
        done = wait_for(
            lambda: jobs.get(job_id)["status"] == "succeeded", 60, "b finishing the job"
        )
        assert done
        resume.set()
    job = jobs.get(job_id)
    assert a_saw == [False]  # a was told to stop: its write was refused
    assert job["status"] == "succeeded" and job["result"] == {"version": "from b"}
    assert job["replica"] == "b" and job["attempts"] == 2
    assert job["progress"] == {"stage": "done"}
    assert not any("interrupted" in e["event"] for e in job["events"])  # a re-queued nothing
