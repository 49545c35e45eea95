#!/usr/bin/env bash
# Offline wheels for image builds: download CPython 3.13 manylinux wheels on the host and serve them on loopback.
#
# Usage: scripts/images/wheelhouse.sh download [REQUIREMENTS...]   default: requirements.txt
#        scripts/images/wheelhouse.sh start     serve .cache/wheels on 127.0.0.1:${WHEELHOUSE_PORT:-28765} (0: any free port), print URL
#        scripts/images/wheelhouse.sh url       print the URL of the running server
#        scripts/images/wheelhouse.sh stop      stop the server this script started
#        scripts/images/wheelhouse.sh up [REQUIREMENTS...]   download, then start
#
# Why: pip inside containers cannot verify PyPI's certificate here (TLS-intercepting proxy) and the host CA must
# never be baked into an image. Builds use it as:
#   docker build --network host --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS="$(scripts/images/wheelhouse.sh url)" ...
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
wheels="${WHEELHOUSE_DIR:-${root}/.cache/wheels}"
state="${root}/.cache/wheelhouse"
pidfile="${state}/server.pid"
urlfile="${state}/server.url"
logfile="${state}/server.log"
# The images run CPython 3.13; the host runs another Python, so pip must be told the target explicitly.
target=(--only-binary=:all: --python-version "${python_version}" --implementation cp --abi "cp${python_version/./}"
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)

# running: true when the pid file names a live http.server of ours (guards against a recycled pid).
running() {
    [[ -s ${pidfile} ]] || return 1
    local pid
    pid=$(cat "${pidfile}")
    [[ -r /proc/${pid}/cmdline && $(tr '\0' ' ' <"/proc/${pid}/cmdline") == *http.server* ]]
}

download() {
    local reqs=("$@")
    ((${#reqs[@]} > 0)) || reqs=("${root}/requirements.txt")
    mkdir -p "${wheels}"
    local req
    for req in "${reqs[@]}"; do
        echo "wheelhouse: downloading wheels for ${req}"
        # The lock carries hashes, so pip checks every file it downloads against them.
        python3 -m pip download --quiet --disable-pip-version-check "${target[@]}" -d "${wheels}" -r "${req}"
    done
    echo "wheelhouse: $(find "${wheels}" -name '*.whl' | wc -l) wheels, $(du -sh "${wheels}" | cut -f1) in ${wheels}"
}

start() {
    if running; then
        cat "${urlfile}"
        return 0
    fi
    [[ -d ${wheels} ]] || { echo "wheelhouse.sh: ${wheels} missing; run '$0 download' first" >&2; exit 1; }
    mkdir -p "${state}"
    : >"${logfile}"
    # A fixed default port keeps PIP_FIND_LINKS, a build arg, identical between builds: a new value would
    # invalidate BuildKit's cache for every RUN after it. Port 0 lets the kernel pick; -u so the
    # "Serving HTTP on ... port N" line is written at once.
    # The interpreter itself, not a launcher such as pyenv's python3 shim: the pid recorded below must be the
    # server's own from the start, or the liveness check can catch it mid-exec and call it dead.
    local python
    python=$(python3 -c 'import sys; print(sys.executable)')
    # The server outlives this script, so it must not keep the caller's other open files: a lock
    # taken with `flock LOCK make images` would otherwise stay held until the server stops.
    # closerange, then exec in place, keeps the recorded pid the server's own.
    nohup "${python}" -u -c 'import os, sys
os.closerange(3, os.sysconf("SC_OPEN_MAX"))
os.execv(sys.executable, [sys.executable, "-u", "-m", "http.server", *sys.argv[1:]])' \
        --bind 127.0.0.1 --directory "${wheels}" "${WHEELHOUSE_PORT:-28765}" >"${logfile}" 2>&1 </dev/null &
    echo $! >"${pidfile}"
    local port="" i
    for ((i = 0; i < 50; i++)); do
        port=$(sed -n 's/^Serving HTTP on .* port \([0-9]*\) .*/\1/p' "${logfile}")
        [[ -n ${port} ]] && break
        if ! kill -0 "$(cat "${pidfile}")" 2>/dev/null; then
            tail -n 3 "${logfile}" >&2
            rm -f "${pidfile}"
            echo "wheelhouse.sh: the server exited (port busy? choose another with WHEELHOUSE_PORT, 0 for any)" >&2
            exit 1
        fi
        sleep 0.1
    done
    [[ -n ${port} ]] || { echo "wheelhouse.sh: server did not report its port" >&2; exit 1; }
    echo "http://127.0.0.1:${port}/" | tee "${urlfile}"
}

url() {
    running || { echo "wheelhouse.sh: no server running; run '$0 start'" >&2; exit 1; }
    cat "${urlfile}"
}

stop() {
    if running; then
        kill "$(cat "${pidfile}")"
        echo "wheelhouse: stopped $(cat "${urlfile}")"
    else
        echo "wheelhouse: no server running"
    fi
    rm -f "${pidfile}" "${urlfile}"
}

command=${1:-}
if (($# > 0)); then shift; fi
case "${command}" in
    download) download "$@" ;;
    start) start ;;
    url) url ;;
    stop) stop ;;
    up) download "$@"; start ;;
    *) sed -n '3,8p' "$0" >&2; exit 2 ;;
esac
