#!/usr/bin/env bash
# `make test-localstack`: the project's DynamoDB integration tests against a real LocalStack
# 4.14.0 started for this run on 127.0.0.1 (scripts/localstack.sh), then stopped and its runtime
# files removed. The same tests run unchanged against DynamoDB Local in the unit tier.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
export IRIS_LOCALSTACK_PORT=${IRIS_LOCALSTACK_PORT:-$("$UV" run --frozen python -c \
  'from infra.local.dynamodb_local import free_port; print(free_port())')}
# What differs on LocalStack is the AWS side: the score log's writes, provisioning, the stream
# and the runner on it, model_api's tables and its object store on S3, the loop end to end once.
# Tests whose AWS calls are the same path again run in the unit tier only (README, Test tiers).
TESTS=(
  tests/scorelog
  tests/infra/provision/test_tables.py
  tests/infra/esm
  tests/model_api/runs/test_dynamodb.py
  tests/model_api/core/test_registry.py
  tests/model_api/core/test_lease.py
  tests/model_api/core/test_objects.py
  tests/e2e/test_retrain_loop.py::test_relabelled_rows_reach_the_retrain_table_exactly
)
# Starts and kills its own DynamoDB Local (an outage), so it never talks to LocalStack.
DESELECT=(
  --deselect tests/scorelog/test_outage_integration.py::test_endpoint_down_mid_run_every_record_arrives_exactly_once
)
# LocalStack's stream delivers records seconds after the write: the quiet window of the runner's
# "drained" (the product setting made for this difference), used by
# tests/infra/esm/test_stream_latency.py; the other stream tests wait for their records on the
# stream instead (tests/infra/esm/conftest.py).
export IRIS_ESM_IDLE_QUIET_S=${IRIS_ESM_IDLE_QUIET_S:-20}
exec bash scripts/localstack.sh run "$UV" run --frozen pytest -q -m "integration" "${TESTS[@]}" \
  "${DESELECT[@]}" ${PYTEST_ARGS:-}
