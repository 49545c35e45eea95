#!/usr/bin/env bash
# Build the project's images (docker/Dockerfile.level1, .level2, .production) with one command, with or without a registry.
#
# Usage: scripts/images/build.sh [level1|level2|production|all]... [--standins]     default: all
#   Upstream base images and PyPI when a registry answers; otherwise (or with --standins / BANKCHURN_STANDINS=1)
#   local stand-ins (standins.sh) and the loopback wheelhouse (wheelhouse.sh), passed as build args with
#   --network host. The Dockerfiles are never modified. Image names come from scripts/images/images.env.
#   Writes the build args it used to .cache/images/build-args (tests rebuild with the same ones).
#   Full BuildKit logs: .cache/images/<target>.log
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here="${root}/scripts/images"
state="${root}/.cache/images"

standins=${BANKCHURN_STANDINS:-0}
targets=()
for arg in "$@"; do
    case "${arg}" in
        --standins) standins=1 ;;
        all) targets+=(level1 level2 production) ;;
        level1 | level2 | production) targets+=("${arg}") ;;
        *) sed -n '3,9p' "$0" >&2; exit 2 ;;
    esac
done
((${#targets[@]} > 0)) || targets=(level1 level2 production)

if ! "${docker}" info >/dev/null 2>&1; then
    "${here}/engine.sh"
fi

# registry_answers: true when an upstream base image can be reached: its manifest read (no download), or, with
# clients whose `docker manifest` is missing or experimental-only, the image pulled (the build needs it anyway).
registry_answers() {
    DOCKER_CLI_EXPERIMENTAL=enabled timeout 15 "${docker}" manifest inspect debian:13-slim >/dev/null 2>&1 ||
        timeout 120 "${docker}" pull --quiet debian:13-slim >/dev/null 2>&1
}

common=()
if [[ ${standins} != 1 ]] && ! registry_answers; then
    echo "build: no container registry answers; using local stand-ins and the loopback wheelhouse"
    standins=1
fi
if [[ ${standins} == 1 ]]; then
    "${here}/standins.sh" >/dev/null
    # Both serving stacks: levels 1-2 and production's sklearn variant, production's default ONNX stack.
    "${here}/wheelhouse.sh" download "${root}/requirements.txt" "${root}/requirements-onnx.txt" >/dev/null
    url=$("${here}/wheelhouse.sh" start | tail -n 1)
    # --network host: BuildKit's RUN steps reach the wheel server on the host's loopback.
    common+=(--network host
        --build-arg "PYTHON_IMAGE=${prefix}/python:${python_version}"
        --build-arg "PYTHON_SLIM_IMAGE=${prefix}/python:${python_version}-slim"
        --build-arg "DEBIAN_SLIM_IMAGE=${prefix}/debian:13-slim"
        --build-arg "DISTROLESS_IMAGE=${prefix}/distroless-python3-debian13:nonroot"
        --build-arg PIP_NO_INDEX=1
        --build-arg "PIP_FIND_LINKS=${url}")
    echo "build: stand-ins ${prefix}/*, wheels from ${url}"
else
    echo "build: upstream base images and ${PIP_INDEX_URL:-https://pypi.org/simple}"
    # A mirror set in the caller's environment is passed on; the Dockerfiles' defaults are PyPI.
    for name in PIP_INDEX_URL PIP_FIND_LINKS PIP_NO_INDEX; do
        if [[ -n ${!name:-} ]]; then common+=(--build-arg "${name}=${!name}"); fi
    done
fi
mkdir -p "${state}"
printf '%s\n' "${common[@]}" >"${state}/build-args"

# OCI labels: version from pyproject, the commit, the build time.
revision=$(git -C "${root}" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

declare -A tags=([level1]=${BANKCHURN_IMAGE_LEVEL1} [level2]=${BANKCHURN_IMAGE_LEVEL2}
    [production]=${BANKCHURN_IMAGE_PRODUCTION})
status=0
for target in "${targets[@]}"; do
    log="${state}/${target}.log"
    start=${SECONDS}
    if "${docker}" build --progress=plain --file "${root}/docker/Dockerfile.${target}" --tag "${tags[${target}]}" \
        "${common[@]}" --build-arg "VERSION=${version}" --build-arg "REVISION=${revision}" \
        --build-arg "CREATED=${created}" "${root}" >"${log}" 2>&1; then
        size=$("${docker}" image inspect --format '{{.Size}}' "${tags[${target}]}")
        printf 'build: %-22s %4d s  %4d MB  (log: %s)\n' "${tags[${target}]}" $((SECONDS - start)) \
            $((size / 1000000)) "${log#"${root}/"}"
    else
        tail -n 40 "${log}" >&2
        echo "build.sh: ${tags[${target}]} failed after $((SECONDS - start)) s (full log: ${log})" >&2
        status=1
    fi
done
exit "${status}"
