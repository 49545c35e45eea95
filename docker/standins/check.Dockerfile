# Smoke test of the stand-ins (scripts/images/check-standins.sh): the multi-stage patterns the project's Dockerfiles use.
# Build with --network host and PIP_NO_INDEX/PIP_FIND_LINKS pointing at the loopback wheelhouse; context = repo root.
ARG DEBIAN_SLIM_IMAGE=debian:13-slim
ARG PYTHON_SLIM_IMAGE=python:3.13-slim
ARG DISTROLESS_IMAGE=gcr.io/distroless/python3-debian13:nonroot

# Production pattern: a venv made with apt's python3 in debian:13-slim carries /usr/bin/python3.13, the
# interpreter distroless has.
FROM ${DEBIAN_SLIM_IMAGE} AS debian-venv
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
# Unpinned on purpose: the venv's python must be the suite's current python3.13, the one distroless unpacks.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install --disable-pip-version-check --require-hashes -r /tmp/requirements.txt

FROM ${DISTROLESS_IMAGE} AS distroless-runtime
COPY --from=debian-venv /opt/venv /opt/venv
# Exec form: there is no shell. Runs as the image's uid 65532.
RUN ["/opt/venv/bin/python", "-c", "import os, fastapi, uvicorn, uvloop, sklearn, scipy, numpy; assert os.getuid() == 65532; print('distroless venv ok as', os.getuid())"]
ENTRYPOINT ["/opt/venv/bin/python"]

# Level-2 pattern: a venv made in python:3.13-slim records /usr/local/bin/python, present in the slim runtime too.
FROM ${PYTHON_SLIM_IMAGE} AS slim-venv
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
RUN python -m venv /opt/venv
RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install --disable-pip-version-check --require-hashes -r /tmp/requirements.txt

FROM ${PYTHON_SLIM_IMAGE} AS slim-runtime
COPY --from=slim-venv /opt/venv /opt/venv
USER 10001
RUN ["/opt/venv/bin/python", "-c", "import os, fastapi, uvicorn, uvloop, sklearn; print('slim venv ok as', os.getuid())"]
ENTRYPOINT ["/opt/venv/bin/python"]
