#!/usr/bin/env bash
# Make the images the Dockerfiles start FROM when no image registry is reachable (this CI).
#
# Real users pull python:3.11-slim and localstack/localstack:4.14.0 from Docker Hub; here a
# Debian bookworm root file system is bootstrapped from the Debian mirror apt already uses and
# imported under the name python:3.11-slim (Debian's own Python 3.11, pip allowed, `python` on
# PATH, as in the official image), and a LocalStack 4.14.0 stand-in is built on top of it from
# docker/localstack-standin.Dockerfile. Needs the engine from scripts/docker-engine.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${IRIS_DOCKER_HOME:-$PWD/var/docker}
ROOTFS=$D/rootfs
DOCKER=/usr/bin/docker
PYTHON_IMAGE=python:3.11-slim
LOCALSTACK_IMAGE=localstack/localstack:4.14.0

mirror() {
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
  [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1)
  echo "${uri:-http://deb.debian.org/debian}"
}

python_image() {
  if "$DOCKER" image inspect "$PYTHON_IMAGE" >/dev/null 2>&1; then return; fi
  local m; m=$(mirror)
  echo "base-images: debootstrap bookworm from $m ..." >&2
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase \
    --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates,curl \
    bookworm "$ROOTFS" "$m" >"$D/debootstrap.log" 2>&1 || { tail -20 "$D/debootstrap.log" >&2; exit 1; }
  # As in the official image: pip installs into the system Python (no PEP 668 marker).
  rm -f "$ROOTFS"/usr/lib/python3.*/EXTERNALLY-MANAGED
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  # This machine reaches PyPI and npm through a TLS-inspecting proxy whose CA only the host
  # trusts: the image trusts what the host trusts, and points pip, uv and npm at that bundle.
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  local bundle=/etc/ssl/certs/ca-certificates.crt
  tar -C "$ROOTFS" -c . | "$DOCKER" import \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
    --change "ENV SSL_CERT_FILE=$bundle PIP_CERT=$bundle REQUESTS_CA_BUNDLE=$bundle NODE_EXTRA_CA_CERTS=$bundle" \
    - "$PYTHON_IMAGE" >/dev/null
  rm -rf "$ROOTFS"
}

localstack_image() {
  if "$DOCKER" image inspect "$LOCALSTACK_IMAGE" >/dev/null 2>&1; then return; fi
  echo "base-images: building the $LOCALSTACK_IMAGE stand-in ..." >&2
  local ctx=$D/localstack-context py prefix
  py=$(bash scripts/localstack.sh python)
  prefix=$("$py" -c 'import sys; print(sys.base_prefix)')
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp -a "$prefix" "$ctx/python"
  cp services/infra/dynamodb-local/package.json services/infra/dynamodb-local/package-lock.json \
    localstack/noop_agent.py "$ctx/"
  "$DOCKER" build --network host -q -t "$LOCALSTACK_IMAGE" \
    -f docker/localstack-standin.Dockerfile "$ctx" >/dev/null
  rm -rf "$ctx"  # staging only
}

python_image
localstack_image
