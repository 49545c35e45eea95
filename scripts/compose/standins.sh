#!/usr/bin/env bash
# Build the images the compose stack needs besides the API's, offline: the training job (docker/Dockerfile.train)
# and stand-ins for the MLflow and Prometheus images no registry serves here. Prints the variables to use with compose.
#
# Usage: scripts/compose/standins.sh     (root; after scripts/images/engine.sh; the API images come from scripts/images/build.sh)
#   Writes the same KEY=VALUE lines to .cache/compose/standins.env, which tests/compose/stack.py reads.
#   Full BuildKit logs: .cache/compose/<image>.log
# Users with registry access need none of this: compose pulls ghcr.io/mlflow/mlflow and prom/prometheus, and builds
# the training image itself.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
images="${root}/scripts/images"
state="${root}/.cache/compose"

mlflow_image="${prefix}/mlflow:3.17.2"
prometheus_image="${prefix}/prometheus:debian13"
# The project's own image (only its base is a stand-in): the same name compose builds by default.
train_image="bankchurn-train:${version}"

"${docker}" info >/dev/null 2>&1 || { echo "compose standins: no engine answers; run scripts/images/engine.sh" >&2; exit 1; }
# The base stand-ins (python:3.13-slim, debian:13-slim); kept when present.
"${images}/standins.sh" >/dev/null

mkdir -p "${state}"
# pip download evaluates environment markers for the host's Python, not 3.13: fetch the 3.13 pins of the
# MLflow lock (numpy, scipy, contourpy) from a marker-resolved copy, with their hashes.
target_lock="${state}/mlflow-requirements.target.txt"
python3 "${root}/scripts/compose/target_lock.py" "${root}/infra/mlflow/requirements.txt" >"${target_lock}"
"${images}/wheelhouse.sh" download "${root}/requirements-train.txt" "${target_lock}"
started_server=false
if ! url=$("${images}/wheelhouse.sh" url 2>/dev/null); then
    url=$("${images}/wheelhouse.sh" start)
    started_server=true
fi
cleanup() { if ${started_server}; then "${images}/wheelhouse.sh" stop >/dev/null; fi; }
trap cleanup EXIT

# build NAME DOCKERFILE CONTEXT BUILD-ARGS...: --network host so RUN steps reach the wheelhouse and the Debian archive.
build() {
    local name=$1 dockerfile=$2 context=$3; shift 3
    local start=${SECONDS} log="${state}/${name//[\/:]/_}.log"
    if ! "${docker}" build --progress=plain --network host --file "${dockerfile}" --tag "${name}" "$@" \
            "${context}" >"${log}" 2>&1; then
        tail -n 40 "${log}" >&2
        echo "compose standins: building ${name} failed (full log: ${log})" >&2
        exit 1
    fi
    printf 'compose standins: %-36s %4d s  %5d MB\n' "${name}" $((SECONDS - start)) \
        $(($("${docker}" image inspect --format '{{.Size}}' "${name}") / 1000000))
}

wheels=(--build-arg PIP_NO_INDEX=1 --build-arg "PIP_FIND_LINKS=${url}")
build "${mlflow_image}" "${root}/infra/mlflow/Dockerfile" "${root}/infra/mlflow" \
    --build-arg "PYTHON_SLIM_IMAGE=${prefix}/python:${python_version}-slim" "${wheels[@]}"
build "${train_image}" "${root}/docker/Dockerfile.train" "${root}" \
    --build-arg "PYTHON_SLIM_IMAGE=${prefix}/python:${python_version}-slim" --build-arg "VERSION=${version}" \
    --build-arg "REVISION=$(git -C "${root}" rev-parse HEAD 2>/dev/null || echo unknown)" "${wheels[@]}"
build "${prometheus_image}" "${root}/infra/prometheus/standin.Dockerfile" "${root}/infra/prometheus" \
    --build-arg "DEBIAN_SLIM_IMAGE=${prefix}/debian:13-slim"

cat >"${state}/standins.env" <<ENV
MLFLOW_IMAGE=${mlflow_image}
TRAIN_IMAGE=${train_image}
PROMETHEUS_IMAGE=${prometheus_image}
ENV
echo "== compose: use these (also in ${state#"${root}/"}/standins.env), e.g. export \$(cat .cache/compose/standins.env):"
cat "${state}/standins.env"
