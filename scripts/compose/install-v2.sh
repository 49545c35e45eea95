#!/usr/bin/env bash
# Install Compose v2 (`docker compose`), the command users run, on a Debian 12 machine.
#
# Usage: scripts/compose/install-v2.sh     (root; idempotent: does nothing when `docker compose` answers)
# Why from trixie: Debian 12 packages only the end-of-life Python Compose v1 (1.29). Debian 13's
# `docker-compose` (2.26) is one static Go binary that installs the CLI plugin
# /usr/libexec/docker/cli-plugins/docker-compose and needs only libc6 >= 2.34 (bookworm has 2.36).
# A one-off sources list and lists folder keep trixie out of the machine's own apt configuration.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
plugin=/usr/libexec/docker/cli-plugins/docker-compose

if [[ -x ${plugin} ]] && "${plugin}" version >/dev/null 2>&1; then
    echo "compose: already installed ($("${plugin}" version --short))"
    exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "install-v2.sh: run as root (installs a package)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
# The machine's own Debian mirror (one-line or deb822 sources): whatever archive it uses serves trixie too.
sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f ${file} ]] && sources+=("${file}")
done
uri=$(awk '$1 == "deb" { print $2; exit } $1 == "URIs:" { print $2; exit }' "${sources[@]}" /dev/null)
[[ -n ${uri} ]] || { echo "install-v2.sh: no Debian mirror found in /etc/apt" >&2; exit 1; }
echo "deb ${uri} trixie main" >"${work}/trixie.list"
mkdir -p "${work}/lists/partial"
apt_trixie=(-o "Dir::Etc::sourcelist=${work}/trixie.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=${work}/lists" -o "APT::Get::List-Cleanup=0")
apt-get "${apt_trixie[@]}" update -q
(cd "${work}" && apt-get "${apt_trixie[@]}" download docker-compose)
# dpkg checks the package's own dependency (libc6 >= 2.34) against this machine and refuses if it is unmet.
dpkg -i "${work}"/docker-compose_*.deb
"${docker}" compose version
