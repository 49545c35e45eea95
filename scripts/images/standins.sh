#!/usr/bin/env bash
# Build local stand-ins for the four upstream base images from Debian trixie packages (no container registry is reachable here).
#
# Usage: scripts/images/standins.sh [--force]
#   Images that already exist are kept unless --force is given. Prints the build-args that point the
#   project's Dockerfiles at the stand-ins. Needs root, a running engine (scripts/images/engine.sh) and mmdebstrap.
#
# Stand-ins get their own names (bankchurn-standin/...), never the upstream ones, so they cannot be mistaken
# for, or shadow, the real images on a machine with registry access.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
context="${root}/docker/standins"
suite=trixie
# Plain http: the archive is reachable that way and apt inside the images needs no CA for it.
mirrors=(
    "deb http://deb.debian.org/debian ${suite} main"
    "deb http://deb.debian.org/debian ${suite}-updates main"
    "deb http://deb.debian.org/debian-security ${suite}-security main"
)

force=false
case "${1:-}" in
    --force) force=true ;;
    "") ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

[[ $(id -u) -eq 0 ]] || { echo "standins.sh: run as root (mmdebstrap and docker import need it)" >&2; exit 1; }
"${docker}" info >/dev/null 2>&1 || { echo "standins.sh: no engine answers; run scripts/images/engine.sh first" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "standins.sh: mmdebstrap missing; run scripts/images/engine.sh first" >&2; exit 1; }

workdir=$(mktemp -d)
trap 'rm -rf "${workdir}"' EXIT

have() { "${docker}" image inspect "$1" >/dev/null 2>&1; }

# wanted NAME: true when NAME must be (re)built.
wanted() {
    if ${force} || ! have "$1"; then return 0; fi
    echo "== $1: present, kept (use --force to rebuild)"
    return 1
}

# rootfs NAME MMDEBSTRAP-ARGS...: an mmdebstrap trixie minbase root, plus the given packages, imported as image NAME.
rootfs() {
    local name=$1; shift
    local start=${SECONDS} tarball="${workdir}/${name//[\/:]/_}.tar"
    # --aptopt=FILE lands in the root's /etc/apt/apt.conf.d/99mmdebstrap, so apt behaves as in the official images.
    mmdebstrap --quiet --variant=minbase --aptopt="${context}/apt-docker.conf" "$@" \
        "${suite}" "${tarball}" "${mirrors[@]}"
    "${docker}" import --message "mmdebstrap ${suite} $*" "${tarball}" "${name}" >/dev/null
    rm "${tarball}"
    echo "== ${name}: mmdebstrap + import in $((SECONDS - start)) s"
}

# image NAME DOCKERFILE BUILD-ARGS...: a stand-in built from docker/standins/.
image() {
    local name=$1 dockerfile=$2; shift 2
    local start=${SECONDS} log="${workdir}/build.log"
    # --network host: apt in build stages reaches the Debian archive through the host's network.
    # The full log is only worth reading when the build fails.
    if ! "${docker}" build --progress=plain --network host --file "${context}/${dockerfile}" --tag "${name}" \
            "$@" "${context}" >"${log}" 2>&1; then
        tail -n 40 "${log}" >&2
        echo "standins.sh: building ${name} failed" >&2
        exit 1
    fi
    echo "== ${name}: docker build -f docker/standins/${dockerfile} in $((SECONDS - start)) s"
}

# full_python_version IMAGE: the interpreter's full version, for the PYTHON_VERSION variable upstream sets.
full_python_version() {
    "${docker}" run --rm --network none --entrypoint "/usr/bin/python${python_version}" "$1" \
        -c 'import platform; print(platform.python_version())'
}

total_start=${SECONDS}

slim_python=("python${python_version}" python3-pip python3-venv ca-certificates netbase tzdata)
# The official full image sits on buildpack-deps: compilers, headers, VCS and download tools.
full_python=("${slim_python[@]}" python3-dev build-essential pkg-config git curl wget gnupg dirmngr procps
    openssh-client unzip xz-utils bzip2 file libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev
    libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libxml2-dev libxslt1-dev libyaml-dev)
declare -A roots=(
    [debian-13-slim]="--dpkgopt=${context}/dpkg-slim.cfg"
    ["python-${python_version}-slim"]="--dpkgopt=${context}/dpkg-slim.cfg --include=$(IFS=,; echo "${slim_python[*]}")"
    ["python-${python_version}"]="--include=$(IFS=,; echo "${full_python[*]}")"
)

# The roots are built in parallel: each is mostly waiting for downloads from the archive.
declare -A jobs=()
for tag in "${!roots[@]}"; do
    name="${prefix}/rootfs:${tag}"
    wanted "${name}" || continue
    echo "== ${name}: mmdebstrap ${suite} minbase ${roots[${tag}]}"
    # Word splitting of the option string is intended: it holds whole options without spaces.
    # shellcheck disable=SC2086
    rootfs "${name}" ${roots[${tag}]} >"${workdir}/${tag}.log" 2>&1 &
    jobs[${tag}]=$!
done
failed=()
for tag in "${!jobs[@]}"; do
    # Wait for every job before failing, so none is left running behind this script.
    if wait "${jobs[${tag}]}"; then cat "${workdir}/${tag}.log"; else failed+=("${tag}"); fi
done
if ((${#failed[@]} > 0)); then
    for tag in "${failed[@]}"; do tail -n 30 "${workdir}/${tag}.log" >&2; done
    echo "standins.sh: root filesystems failed: ${failed[*]}" >&2
    exit 1
fi

if wanted "${prefix}/debian:13-slim"; then
    image "${prefix}/debian:13-slim" debian-slim.Dockerfile --build-arg "ROOTFS=${prefix}/rootfs:debian-13-slim"
fi
for variant in -slim ""; do
    name="${prefix}/python:${python_version}${variant}"
    rootfs_image="${prefix}/rootfs:python-${python_version}${variant}"
    if wanted "${name}"; then
        image "${name}" python.Dockerfile --build-arg "ROOTFS=${rootfs_image}" --build-arg "VARIANT=${variant}" \
            --build-arg "PYTHON_VERSION=$(full_python_version "${rootfs_image}")"
    fi
done
if wanted "${prefix}/distroless-python3-debian13:nonroot"; then
    image "${prefix}/distroless-python3-debian13:nonroot" distroless-python3.Dockerfile \
        --build-arg "BUILDER_IMAGE=${prefix}/debian:13-slim"
fi

echo "== stand-ins ready in $((SECONDS - total_start)) s"
"${docker}" image ls --filter "reference=${prefix}/*" --format '{{.Repository}}:{{.Tag}}\t{{.Size}}'
cat <<EOF
== build-args for the project's Dockerfiles (upstream images stay their defaults):
--build-arg PYTHON_IMAGE=${prefix}/python:${python_version}
--build-arg PYTHON_SLIM_IMAGE=${prefix}/python:${python_version}-slim
--build-arg DEBIAN_SLIM_IMAGE=${prefix}/debian:13-slim
--build-arg DISTROLESS_IMAGE=${prefix}/distroless-python3-debian13:nonroot
EOF
