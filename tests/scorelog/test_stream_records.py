"""Real stream records of the score log's items are readable by a course-era Lambda.

The common student function deserialises ``NewImage`` with boto3's ``TypeDeserializer`` and
``json.dumps`` it with no custom encoder. That fails on any ``N`` attribute (it becomes a
``Decimal``), so every attribute the product writes must be ``S``. The records are read from the
table's real stream on the test endpoint after the product's writer wrote them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from model_api.runs.store import new_run_id
from model_api.scorelog.items import build_items

from tests.support.scorelog_kit import Run, running, score_log, scored_rows

pytestmark = pytest.mark.integration


async def test_stream_records_json_dump_as_a_course_lambda_does(
    tmp_path: Path, tables: dict[str, str], aws_env: Any, read_stream: Any
) -> None:
    log = score_log(tmp_path, tables, aws_env)
    async with running(log):
        run = Run(run_id=new_run_id(), model_id=12, dataset_id=3)
        rows = scored_rows(30)
        await log.submit(run, rows)
        assert await log.wait_idle(run.run_id, timeout=60)

    def of_run(record: dict[str, Any]) -> bool:
        return record["dynamodb"]["Keys"]["partition_key"]["S"] == run.run_id

    records = read_stream(tables["score"], 30, keep=of_run)
    assert len(records) == 30
    expected = dict(build_items(run, rows))
    deserializer = TypeDeserializer()
    for record in records:
        image = record["dynamodb"]["NewImage"]
        assert image == expected[int(image["sort_key"]["S"])]
        # The course Lambda's two lines, verbatim in spirit: no custom encoder.
        plain = {k: deserializer.deserialize(v) for k, v in image.items()}
        text = json.dumps(plain)
        back = json.loads(text)
        assert back["model_id"] == "12" and back["dataset_id"] == "3"
        vector = json.loads(back["probabilities"])
        assert float(back["Probability"]) == pytest.approx(vector[back["Class"]])
        assert all(isinstance(v, str) for v in back.values())
