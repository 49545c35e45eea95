#!/usr/bin/env bash
# Make sure a Docker engine answers here (CI machines start with only a client): install Debian's docker.io and start dockerd.
#
# Usage: scripts/images/engine.sh     (root; idempotent: does nothing when `docker info` already answers)
# Also installs mmdebstrap, which scripts/images/standins.sh needs. The engine keeps running after this script.
set -euo pipefail

# The docker client (lib.sh): Debian's, the only one here that drives BuildKit.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
dockerd=/usr/sbin/dockerd
# dockerd runs iptables from PATH (it fails "Iptables not found" without it); a CI step's PATH may lack the sbin folders.
export PATH="${PATH}:/usr/sbin:/sbin"
log=${DOCKERD_LOG:-/var/log/dockerd.log}
pidfile=/var/run/docker.pid
timeout=60

if [[ -x ${docker} ]] && "${docker}" info >/dev/null 2>&1; then
    echo "engine: already answering ($("${docker}" version --format '{{.Server.Version}}'))"
    exit 0
fi

[[ $(id -u) -eq 0 ]] || { echo "engine.sh: run as root (installs packages, starts dockerd)" >&2; exit 1; }

missing=()
[[ -x ${dockerd} && -x ${docker} ]] || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if ((${#missing[@]} > 0)); then
    echo "engine: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
fi

# A dockerd that is still starting owns the pid file: wait for it instead of starting a second one.
if [[ -s ${pidfile} ]] && kill -0 "$(cat "${pidfile}")" 2>/dev/null; then
    echo "engine: dockerd $(cat "${pidfile}") is starting; waiting"
else
    # A pid file left by a dead dockerd makes the next one refuse to start.
    rm -f "${pidfile}"
    echo "engine: starting dockerd (log: ${log})"
    # setsid: its own session, so it outlives this script and the CI step that ran it.
    # (A background job of a script is no process-group leader, so setsid execs in place: $! is dockerd.)
    setsid "${dockerd}" >>"${log}" 2>&1 </dev/null &
    started=$!
fi

for ((i = 0; i < timeout; i++)); do
    if "${docker}" info >/dev/null 2>&1; then
        echo "engine: ready after ${i} s ($("${docker}" version --format '{{.Server.Version}}'))"
        exit 0
    fi
    # Stop waiting as soon as the dockerd we started has died: the log says why.
    if [[ -n ${started:-} ]] && ! kill -0 "${started}" 2>/dev/null; then
        break
    fi
    sleep 1
done
echo "engine.sh: dockerd is not answering (waited ${i} s of ${timeout}); last lines of ${log}:" >&2
tail -n 20 "${log}" >&2
exit 1
