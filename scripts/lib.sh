# shellcheck shell=bash disable=SC2034  # each script uses some of these
# The setup every script in scripts/ shares; `source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"`.
# Sets: root (the repository), docker (the client), prefix (the stand-ins' image prefix), version
# (the project's, from pyproject.toml), python_version (the images' Python), and images.env's names.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's client drives the engine's built-in BuildKit; the preinstalled Docker 28 client lacks buildx.
docker=/usr/bin/docker
export DOCKER_BUILDKIT=1
# Local stand-ins for the upstream base images get their own names, never the upstream ones.
prefix="${STANDIN_PREFIX:-bankchurn-standin}"
# One source for the project's version: pyproject.toml (image labels, the training image's tag).
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "${root}/pyproject.toml" | head -n 1)
# The images' CPython (Debian 13's): wheels are downloaded for it, stand-ins are named after it.
python_version=3.13
# The project's image names (BANKCHURN_IMAGE_*).
# shellcheck source=scripts/images/images.env
source "${root}/scripts/images/images.env"
