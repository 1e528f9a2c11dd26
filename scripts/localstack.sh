#!/usr/bin/env bash
# LocalStack 4.14.0 on the host, without Docker: install | start | stop | env | run CMD...
#
# Everything lives under $IRIS_LOCALSTACK_HOME (default var/localstack in the checkout):
#   venv/     localstack-core 4.14.0 in its own Python 3.13 venv (kept: an install cache)
#   runtime/  FILESYSTEM_ROOT, TMPDIR, the pid and log of one run (removed by `stop`)
# It listens on 127.0.0.1:$IRIS_LOCALSTACK_PORT only. `stop` removes only what `start` made.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HOME_DIR=${IRIS_LOCALSTACK_HOME:-$ROOT/var/localstack}
PORT=${IRIS_LOCALSTACK_PORT:-4566}
VENV=$HOME_DIR/venv
RUN=$HOME_DIR/runtime
PIDFILE=$RUN/localstack.pid
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
LOG=$RUN/localstack.log
# The pins that make 4.14.0 run (newer majors of these break it); see docs on the facts page.
PINS=("localstack-core[runtime]==4.14.0" "cbor2<6" "pyopenssl<26" "localstack-twisted<26" "cryptography<47")

python313() {
  if [ -n "${IRIS_LOCALSTACK_PYTHON:-}" ]; then echo "$IRIS_LOCALSTACK_PYTHON"; return; fi
  local p
  for p in "$HOME"/.pyenv/versions/3.13.*/bin/python3.13; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  "$UV" python find 3.13 2>/dev/null || { "$UV" python install 3.13 >&2 && "$UV" python find 3.13; }
}

install() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import localstack, rolo" 2>/dev/null; then
    return
  fi
  local py; py=$(python313)
  echo "localstack: installing ${PINS[*]} with $py ..." >&2
  rm -rf "$VENV"
  "$UV" venv --quiet --python "$py" "$VENV"
  "$UV" pip install --quiet --python "$VENV/bin/python" "${PINS[@]}"
}

# What LocalStack would otherwise download from hosts this machine cannot reach.
prepare_root() {
  local lib=$RUN/fs/var/lib/localstack/lib jar_dir
  jar_dir=$("$UV" run --frozen python -c 'from infra.local.dynamodb_local import ensure_installed; print(ensure_installed())' | tail -1)
  mkdir -p "$lib/dynamodb-local/2" "$lib/java" "$RUN/tmp"
  cp -r "$jar_dir"/. "$lib/dynamodb-local/2/"
  # LocalStack wants Java 21 under java/21; the system Java 17 runs DynamoDB Local fine.
  local java_home; java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  ln -sfn "$java_home" "$lib/java/21"
  # A do-nothing java agent in place of ddb-local-loader (served from an unreachable host).
  "$UV" run --frozen python localstack/noop_agent.py "$lib/dynamodb-local/2/ddb-local-loader-0.1.jar"
}

ls_env() {
  cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
ENV
}

start() {
  install
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "localstack: already running (pid $(cat "$PIDFILE"))" >&2; return
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "localstack: port $PORT is in use; set IRIS_LOCALSTACK_PORT" >&2; exit 1
  fi
  rm -rf "$RUN"; mkdir -p "$RUN"
  prepare_root
  echo "localstack: starting on 127.0.0.1:$PORT (log $LOG)" >&2
  (
    cd "$RUN"
    export OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT=$RUN/fs TMPDIR=$RUN/tmp CLEAR_TMP_FOLDER=0 \
      GATEWAY_LISTEN=127.0.0.1:$PORT DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
      SERVICES=${IRIS_LOCALSTACK_SERVICES:-dynamodb,dynamodbstreams,sqs,iam,lambda,logs,s3} \
      LOCALSTACK_HOST=127.0.0.1:$PORT
    setsid "$VENV/bin/python" -m localstack.runtime.main >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
  )
  local deadline=$((SECONDS + ${IRIS_LOCALSTACK_START_TIMEOUT:-120}))
  until curl -fsS "http://127.0.0.1:$PORT/_localstack/init/ready" 2>/dev/null | grep -q '"completed": true'; do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "localstack: exited during start-up; last log lines:" >&2; tail -20 "$LOG" >&2; exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "localstack: not ready in time; last log lines:" >&2; tail -20 "$LOG" >&2; stop; exit 1
    fi
    sleep 0.5
  done
  echo "localstack: ready" >&2
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid; pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$RUN"
}

case "${1:-}" in
  install) install ;;
  python) python313 ;;
  start) start ;;
  stop) stop ;;
  env) ls_env ;;
  run)  # start, run the command with AWS_ENDPOINT_URL set, stop whatever happens
    shift
    start
    trap stop EXIT
    eval "$(ls_env)"
    "$@"
    ;;
  *) echo "usage: $0 install|start|stop|env|run CMD..." >&2; exit 2 ;;
esac
