#!/usr/bin/env bash
# `make test-localstack`: the project's DynamoDB integration tests against a real LocalStack
# 4.14.0 started for this run on 127.0.0.1 (scripts/localstack.sh), then stopped and its runtime
# files removed. The same tests run unchanged against DynamoDB Local in the unit tier.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
export IRIS_LOCALSTACK_PORT=${IRIS_LOCALSTACK_PORT:-$("$UV" run --frozen python -c \
  'from infra.dynamodb_local import free_port; print(free_port())')}
# score log, provisioning, stream runner (packaged zip and late stream included), model_api's
# tables, the e2e loop
TESTS=(
  tests/scorelog
  tests/infra/test_provision_tables.py
  tests/esm
  tests/model_api/test_model_api_dynamodb.py
  tests/e2e
)
# LocalStack's stream delivers records seconds after the write: let a drained stream stay quiet
# that long before the runner calls it idle (the product setting made for this difference).
export IRIS_ESM_IDLE_QUIET_S=${IRIS_ESM_IDLE_QUIET_S:-20}
exec bash scripts/localstack.sh run "$UV" run --frozen pytest -q -m "integration" "${TESTS[@]}" ${PYTEST_ARGS:-}
