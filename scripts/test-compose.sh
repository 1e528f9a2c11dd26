#!/usr/bin/env bash
# `make test-compose`: the real docker-compose.yml, built and run on a private Docker engine.
#
# 1. a Docker engine from Debian's packages, started with the host's network settings untouched
#    (scripts/docker-engine.sh); 2. the base images the Dockerfiles start FROM, made locally
#    (scripts/base-images.sh: no registry is reachable here; users pull the real ones); 3. the
#    service images from the one Dockerfile; 4. `docker compose up --wait` with
#    docker/compose.no-lambda.yml; 5. tests/compose drives it through the published ports;
#    6. `docker compose down -v`, the engine stopped, its files removed.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
free_port() { "$UV" run --frozen python -c 'from infra.local.dynamodb_local import free_port; print(free_port())'; }
export IRIS_AWS_PORT=${IRIS_COMPOSE_AWS_PORT:-$(free_port)}
export IRIS_API_PORT=${IRIS_COMPOSE_API_PORT:-$(free_port)}
export IRIS_UI_PORT=${IRIS_COMPOSE_UI_PORT:-$(free_port)}
eval "$(bash scripts/docker-engine.sh env)"
export DOCKER_SOCKET=${DOCKER_HOST#unix://}
COMPOSE=(docker compose -f docker-compose.yml -f docker/compose.no-lambda.yml)
export IRIS_COMPOSE_CMD="${COMPOSE[*]}"

step() { echo "--- compose tier: $1 (${SECONDS}s)"; }
cleanup() {
  step "down -v, engine stopped"
  "${COMPOSE[@]}" down -v --remove-orphans --timeout 20 >/dev/null 2>&1 || true
  bash scripts/docker-engine.sh stop
}
trap cleanup EXIT

step "engine"
bash scripts/docker-engine.sh start
step "base images"
bash scripts/base-images.sh
for target in infra ui model-api; do
  step "image $target"
  docker build --network host -q --target "$target" -t "iris-monitor/$target:dev" . >/dev/null
done
step "up --wait"
if ! "${COMPOSE[@]}" up --no-build --wait --wait-timeout 600 --quiet-pull; then
  "${COMPOSE[@]}" ps -a; "${COMPOSE[@]}" logs --tail 40; exit 1
fi
step "tests"
rc=0
"$UV" run --frozen pytest -q -m compose tests/compose ${PYTEST_ARGS:-} || rc=$?
if [ $rc -ne 0 ]; then "${COMPOSE[@]}" ps -a; "${COMPOSE[@]}" logs --tail 60; fi
exit $rc
