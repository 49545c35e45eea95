# Stand-in for python:3.13 / python:3.13-slim, built offline by scripts/images/standins.sh: never tag it as the real image.
# ROOTFS is an mmdebstrap trixie root with Debian's python3.13, pip and venv (plus build tools for the full variant).
ARG ROOTFS
FROM ${ROOTFS} AS tree

# The official images build CPython into /usr/local; Debian's lives in /usr/bin. Venvs record the path they were
# made with (/usr/local/bin/python3.13), so every python stand-in carries the same links and venvs move between them.
# site-packages is the real folder, as upstream; Debian's pip writes to dist-packages (empty here), which points at it.
# Upstream has no EXTERNALLY-MANAGED marker (PEP 668): `pip install` as root just works there, so remove Debian's.
# Upstream also deletes every .pyc it built (docker-library/python#615: ~30 MB); Debian compiled the stdlib at
# install time, so drop those too and start up (recompiling as non-root) exactly as slowly as upstream does.
RUN set -eux; \
    for name in python3.13 python3 python; do ln -s /usr/bin/python3.13 "/usr/local/bin/${name}"; done; \
    for name in pip3.13 pip3 pip; do ln -s /usr/bin/pip3 "/usr/local/bin/${name}"; done; \
    for name in pydoc3 python3-config python3.13-config; do \
        if [ -e "/usr/bin/${name}" ]; then ln -s "/usr/bin/${name}" "/usr/local/bin/${name}"; fi; \
    done; \
    mkdir /usr/local/lib/python3.13/site-packages; \
    rmdir /usr/local/lib/python3.13/dist-packages; \
    ln -s site-packages /usr/local/lib/python3.13/dist-packages; \
    rm /usr/lib/python3.13/EXTERNALLY-MANAGED; \
    find /usr/lib/python3.13 /usr/lib/python3/dist-packages -depth -type d -name __pycache__ -exec rm -rf '{}' +; \
    /usr/local/bin/python3 -B -c 'import ssl, sqlite3, venv, ensurepip, ctypes, decimal'

# One flattened layer, so the deleted .pyc do not linger in a lower layer and the size compares with upstream's.
FROM scratch
# hadolint ignore=DL3067
COPY --from=tree / /

ARG PYTHON_VERSION
ARG VARIANT
LABEL org.opencontainers.image.title="bankchurn stand-in for python:3.13${VARIANT}" \
      org.opencontainers.image.description="Debian trixie python${PYTHON_VERSION} arranged like the official image (/usr/local/bin, no EXTERNALLY-MANAGED, no stdlib .pyc); a local substitute where no registry is reachable."
# The same environment the official image declares.
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHON_VERSION=${PYTHON_VERSION}
CMD ["python3"]
