#!/usr/bin/env bash
# Smoke-test the stand-ins: the upstream layout the Dockerfiles rely on, and venvs moved between images (offline).
#
# Usage: scripts/images/check-standins.sh     (after engine.sh and standins.sh; downloads wheels if needed)
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
wheelhouse="${root}/scripts/images/wheelhouse.sh"
distroless="${prefix}/distroless-python3-debian13:nonroot"

# run IMAGE ARGS...: a throwaway container with no network, as a fresh user would run it.
run() { "${docker}" run --rm --network none "$@"; }

echo "== python stand-ins: official layout (/usr/local/bin, no EXTERNALLY-MANAGED, no stdlib .pyc, LANG, PATH)"
python_slim="${prefix}/python:${python_version}-slim" python_full="${prefix}/python:${python_version}"
for image in "${python_slim}" "${python_full}"; do
    # The single quotes are intended: the variables expand inside the container ($1: the Python version).
    # shellcheck disable=SC2016
    run "${image}" sh -euc '
        test "$(readlink -f "/usr/local/bin/python$1")" = "/usr/bin/python$1"
        test ! -e "/usr/lib/python$1/EXTERNALLY-MANAGED"
        test -z "$(find "/usr/lib/python$1" -name "*.pyc" -print -quit)"
        test "${LANG}" = C.UTF-8
        case "${PATH}" in /usr/local/bin:*) ;; *) exit 1 ;; esac
        python -c "import venv, ensurepip, ssl, sqlite3"
        pip --version >/dev/null
        echo "  $0: $(python -V), $(pip -V | cut -d" " -f1-2)"' "${image}" "${python_version}"
done
run "${python_slim}" sh -c '! command -v curl && ! command -v wget && ! command -v gcc' >/dev/null
run "${python_full}" sh -c 'command -v gcc && command -v git && command -v curl' >/dev/null

echo "== distroless stand-in: no shell, uid 65532, python at /usr/bin/python${python_version}, no stdlib .pyc"
run "${distroless}" -c '
import os, pwd, ssl, sqlite3, decimal, ctypes, json, sys
version = sys.argv[1]  # the Python version of the images, from scripts/lib.sh
assert not os.path.exists("/bin/sh") and not os.path.exists("/usr/bin/apt")
assert os.getuid() == 65532 and pwd.getpwuid(65532).pw_dir == os.getcwd() == "/home/nonroot"
assert os.stat("/tmp").st_mode & 0o1777 == 0o1777
assert os.path.realpath("/usr/bin/python3") == f"/usr/bin/python{version}"
assert ssl.get_default_verify_paths().cafile == "/etc/ssl/certs/ca-certificates.crt"
assert not any(f.endswith(".pyc") for _, _, files in os.walk(f"/usr/lib/python{version}") for f in files)
print("  ok:", os.sys.version.split()[0])' "${python_version}"

echo "== multi-stage builds FROM the stand-ins with wheels from the loopback wheelhouse"
# Stop the server at the end only if this script started it.
started_server=false
if ! "${wheelhouse}" url >/dev/null 2>&1; then
    "${wheelhouse}" download "${root}/requirements.txt"
    "${wheelhouse}" start >/dev/null
    started_server=true
fi
log=$(mktemp)
cleanup() {
    rm -f "${log}"
    if ${started_server}; then "${wheelhouse}" stop; fi
}
trap cleanup EXIT
url=$("${wheelhouse}" url)
for target in distroless-runtime slim-runtime; do
    start=${SECONDS}
    "${docker}" build --progress=plain --network host \
        --file "${root}/docker/standins/check.Dockerfile" --target "${target}" --tag "${prefix}-check:${target}" \
        --build-arg "DEBIAN_SLIM_IMAGE=${prefix}/debian:13-slim" \
        --build-arg "PYTHON_SLIM_IMAGE=${python_slim}" \
        --build-arg "DISTROLESS_IMAGE=${distroless}" \
        --build-arg PIP_NO_INDEX=1 --build-arg "PIP_FIND_LINKS=${url}" \
        "${root}" >"${log}" 2>&1 || { tail -n 40 "${log}" >&2; echo "check-standins.sh: ${target} failed" >&2; exit 1; }
    echo "  ${target}: built in $((SECONDS - start)) s"
done
run "${prefix}-check:distroless-runtime" -c 'import os, sklearn; print("  distroless runtime:", os.getuid(), "sklearn", sklearn.__version__)'
run "${prefix}-check:slim-runtime" -c 'import os, fastapi; print("  slim runtime:", os.getuid(), "fastapi", fastapi.__version__)'
echo "== stand-ins ok"
