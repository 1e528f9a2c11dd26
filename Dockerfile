# One Dockerfile for every service image; build from the repository root (the uv workspace):
#   docker build --target model-api .     (or: ui, infra)
# Each target installs only its own package and its locked dependencies (uv.lock, no dev tools);
# the dependency layer comes before the sources, so it is rebuilt only when the lock changes, and
# all targets share one uv download cache (BuildKit cache mount).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS uv
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# uv reads the lock through every workspace member's manifest.
COPY pyproject.toml uv.lock ./
COPY services/model_api/pyproject.toml services/model_api/
COPY services/ui/pyproject.toml services/ui/
COPY services/lambda/pyproject.toml services/lambda/
COPY services/infra/pyproject.toml services/infra/
COPY services/common/pyproject.toml services/common/

# One build stage per target, alike on purpose: a Dockerfile cannot instantiate one stage with
# different ARGs in one build, and copying every service's sources into a shared stage would
# rebuild all images whenever any service changes. Each stage: locked dependencies, then sources.
FROM uv AS build-model-api
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package model-api
COPY services/model_api/src services/model_api/src
COPY services/common/src services/common/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package model-api

FROM uv AS build-ui
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package iris-dashboard
COPY services/ui/src services/ui/src
COPY services/common/src services/common/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package iris-dashboard

# infra: the provisioning command, and the local stream runner (python -m infra.esm); it carries
# the flagger package it zips for Lambda. No Java, no npm: DynamoDB Local is the embedded stack's.
FROM uv AS build-infra
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package iris-infra
COPY services/lambda/src services/lambda/src
COPY services/infra/src services/infra/src
COPY services/common/src services/common/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package iris-infra

# What every service image shares: an unprivileged user, the venv on PATH, and the one health
# check, which asks the URL the target names in HEALTHCHECK_URL.
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --create-home --uid 10001 iris && mkdir -p /data && chown iris:iris /data
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    IRIS_HOST=0.0.0.0
USER iris
WORKDIR /home/iris
HEALTHCHECK --interval=5s --timeout=5s --start-period=120s --retries=24 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]

FROM runtime AS model-api
COPY --from=build-model-api /app/.venv /app/.venv
ENV IRIS_API_PORT=8000 \
    IRIS_DATA_DIR=/data \
    HEALTHCHECK_URL=http://127.0.0.1:8000/health/ready
EXPOSE 8000
VOLUME ["/data"]
CMD ["python", "-m", "model_api"]

FROM runtime AS ui
COPY --from=build-ui /app/.venv /app/.venv
ENV IRIS_UI_PORT=8050 \
    HEALTHCHECK_URL=http://127.0.0.1:8050/health
EXPOSE 8050
CMD ["python", "-m", "dashboard"]

FROM runtime AS infra
COPY --from=build-infra /app/.venv /app/.venv
ENV IRIS_DATA_DIR=/data
# One-shot commands (provisioning) and the stream runner serve no HTTP.
HEALTHCHECK NONE
ENTRYPOINT ["iris-provision"]
CMD ["up", "--wait", "120"]
